#!/usr/bin/env bash
# Token shards against the in-memory text source, on the fortunes corpus:
#   1. `stratum data prepare` throughput (tokens/s) with byte tokens, Stratum's BPE (2048 ids)
#      and, when the venv has `tokenizers`, a GPT-2 vocab.json + merges.txt (4096 ids);
#   2. training throughput and padding: configs/gpt-fortunes.yaml (records padded to 128 bytes)
#      against configs/gpt-fortunes-shards.yaml (windows of 128, packed by document), 100 steps,
#      2 threads: real tokens/s from metrics.jsonl and peak RSS from eval.json.
# Usage: scripts/bench_token_shards.sh [BUILD_DIR]   (default build/, built by scripts/build.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
bin="${1:-build}/bin/stratum"
[ -x "$bin" ] || { echo "bench_token_shards: $bin is missing: run scripts/build.sh" >&2; exit 2; }
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT

prepare() {  # name, extra flags...
  local name=$1
  shift
  "$bin" data prepare --config configs/gpt-fortunes.yaml --out "$out/shards-$name" --workers 2 "$@" | grep '^tokenizer:' |
    sed "s/^/prepare $name: /"
}
prepare bytes
"$bin" data tokenizer --config configs/gpt-fortunes.yaml --out "$out/bpe.json" >/dev/null
prepare bpe --set data.tokenizer.path="$out/bpe.json"
if .venv/bin/python -c 'import tokenizers' 2>/dev/null; then
  .venv/bin/python - "$out/gpt2" >/dev/null 2>&1 <<'PY'
import sys, pathlib
from tokenizers import ByteLevelBPETokenizer
texts = [p.read_text(errors="replace") for p in pathlib.Path("/usr/share/games/fortunes").iterdir() if not p.suffix]
t = ByteLevelBPETokenizer()
t.train_from_iterator(texts, vocab_size=4096, special_tokens=["<|endoftext|>"])
pathlib.Path(sys.argv[1]).mkdir()
t.save_model(sys.argv[1])
PY
  prepare gpt2 --set data.tokenizer.path="$out/gpt2"
fi

train() {  # name, config, extra flags...
  local name=$1 config=$2
  shift 2
  "$bin" train --config "$config" --set run.output_dir="$out/runs-$name" --set trainer.steps=100 \
    --set trainer.threads=2 --set eval.every=0 --set eval.max_samples=256 --set logging.every=10 \
    --set trainer.checkpoint.best_metric= "$@" >/dev/null 2>&1
  local run
  run="$(ls -d "$out/runs-$name"/*/)"
  python3 - "$name" "$run" <<'PY'
import json, sys
name, run = sys.argv[1], sys.argv[2]
train = [json.loads(l) for l in open(run + "metrics.jsonl") if '"train"' in l]
rates = [r["samples_per_second"] for r in train[2:]]  # after warm-up
tokens = [r.get("tokens_per_step", 0) for r in train[2:]]
peak = json.load(open(run + "eval.json"))["model"]["peak_rss_bytes"] / 2**20
print(f"train {name:8s} {sum(rates) / len(rates):8.0f} real tokens/s  {sum(tokens) / len(tokens):6.0f} real tokens/step "
      f"of {32 * 128}  peak RSS {peak:.0f} MiB")
PY
}
train text configs/gpt-fortunes.yaml
train shards configs/gpt-fortunes-shards.yaml --set data.path="$out/shards-bytes"
