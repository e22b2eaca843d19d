#!/usr/bin/env bash
# Decoding speed of `stratum generate` with and without the key/value cache: the fortunes GPT
# shape (4 blocks, 128 wide, randomly initialised, byte-level), one prompt, 256 new tokens,
# greedy, 2 threads. Prints tokens/s for both and the cache's speedup; the tokens must agree.
# Usage: scripts/bench_generate.sh [BUILD_DIR]   (default build/, built by scripts/build.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
bin="${1:-build}/bin/stratum"
[ -x "$bin" ] || { echo "bench_generate: $bin is missing: run scripts/build.sh" >&2; exit 2; }
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
common=(generate --config configs/gpt-fortunes.yaml --set model.context=512 --set data.text.max_length=512
        --set trainer.threads=2 --prompt 'The quick brown fox ' --max-new-tokens 256 --batch 1)
rate() { python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).readline())["tokens_per_second"])' "$1"; }
tokens() { python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).readline())["tokens"])' "$1"; }
"$bin" "${common[@]}" --out "$out/cached.jsonl" >/dev/null
"$bin" "${common[@]}" --no-cache --out "$out/uncached.jsonl" >/dev/null
[ "$(tokens "$out/cached.jsonl")" = "$(tokens "$out/uncached.jsonl")" ] || { echo "bench_generate: the tokens differ" >&2; exit 1; }
cached="$(rate "$out/cached.jsonl")"
uncached="$(rate "$out/uncached.jsonl")"
printf 'generate 256 tokens  cache %8.1f tokens/s  no cache %8.1f tokens/s  speedup %.2fx\n' \
  "$cached" "$uncached" "$(python3 -c "print($cached / $uncached)")"
