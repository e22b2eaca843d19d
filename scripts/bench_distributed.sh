#!/usr/bin/env bash
# Data and tensor parallelism on the CPU, Gloo on loopback:
#  1. all-reduce bandwidth by message size (Google Benchmark, stratum_bench_allreduce);
#  2. training throughput of the Fashion-MNIST CNN (configs/smoke.yaml, 64 examples per step)
#     in one process with 1 and with 2 intra-op threads, and as 2 data-parallel processes of
#     1 thread each (32 examples per rank), started by `stratum launch`;
#  3. tokens/s of the fortunes GPT (configs/tensor-parallel.yaml's model, 16 x 128 tokens per
#     step, no dropout) in one process with 1 and 2 threads, and split over 2 tensor-parallel
#     processes of 1 thread each.
# Samples/s and tokens/s are the trainer's own figures (metrics.jsonl, the whole job),
# averaged after a warm-up.
# Usage: scripts/bench_distributed.sh [STEPS]   (default 400)
set -euo pipefail
cd "$(dirname "$0")/.."
STRATUM_BENCHMARKS=1 scripts/build.sh >/dev/null
steps="${1:-400}"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT

echo "== Gloo all-reduce, 2 ranks on loopback"
build/bin/stratum_bench_allreduce --benchmark_counters_tabular=true

common=(--config configs/smoke.yaml --set "trainer.steps=$steps" --set logging.every=20 --set eval.max_samples=200
        --set trainer.checkpoint.every=0 --set trainer.checkpoint.best_metric=)
throughput() {  # mean samples/s of the logged windows after the first 20% of the run
  python3 - "$1" <<'PY'
import json, sys, glob
rows = [json.loads(l) for l in open(glob.glob(sys.argv[1] + "/*/metrics.jsonl")[0])]
train = [r for r in rows if r.get("kind") == "train"]
tail = train[max(1, len(train) // 5):]
print(f"{sum(r['samples_per_second'] for r in tail) / len(tail):.0f}")
PY
}

echo "== smoke CNN, $steps steps of 64 examples"
build/bin/stratum train "${common[@]}" --set trainer.batch_size=64 --set trainer.threads=1 --set "run.output_dir=$out/one-1" >/dev/null 2>&1
build/bin/stratum train "${common[@]}" --set trainer.batch_size=64 --set trainer.threads=2 --set "run.output_dir=$out/one-2" >/dev/null 2>&1
build/bin/stratum launch --nproc-per-node 2 -- train "${common[@]}" --set trainer.batch_size=32 --set trainer.threads=1 \
  --set "run.output_dir=$out/dp-2" >/dev/null 2>&1
one1=$(throughput "$out/one-1"); one2=$(throughput "$out/one-2"); dp2=$(throughput "$out/dp-2")
printf '%-44s %10s samples/s\n' "1 process, 1 thread" "$one1" "1 process, 2 threads" "$one2" \
  "2 data-parallel processes x 1 thread (Gloo)" "$dp2"
python3 -c "print(f'dp_speedup_vs_1_thread {$dp2/$one1:.2f}'); print(f'dp_speedup_vs_2_threads {$dp2/$one2:.2f}')"

gpt_steps=$(( steps / 4 ))
gpt=(--config configs/tensor-parallel.yaml --set "trainer.steps=$gpt_steps" --set logging.every=5 --set eval.every=0
     --set eval.max_samples=100 --set trainer.checkpoint.every=0 --set trainer.grad_accum=1 --set model.dropout=0
     --set data.max_records=4000 --set trainer.warmup_steps=5)
echo "== fortunes GPT (4 x 128, 4 heads), $gpt_steps steps of 16 x 128 tokens"
build/bin/stratum train "${gpt[@]}" --set distributed.tensor_parallel=1 --set trainer.threads=1 --set "run.output_dir=$out/gpt-1" >/dev/null 2>&1
build/bin/stratum train "${gpt[@]}" --set distributed.tensor_parallel=1 --set trainer.threads=2 --set "run.output_dir=$out/gpt-2" >/dev/null 2>&1
build/bin/stratum launch --nproc-per-node 2 -- train "${gpt[@]}" --set trainer.threads=1 --set "run.output_dir=$out/tp-2" >/dev/null 2>&1
gpt1=$(throughput "$out/gpt-1"); gpt2=$(throughput "$out/gpt-2"); tp2=$(throughput "$out/tp-2")
printf '%-44s %10s tokens/s\n' "1 process, 1 thread" "$gpt1" "1 process, 2 threads" "$gpt2" \
  "2 tensor-parallel processes x 1 thread (Gloo)" "$tp2"
python3 -c "print(f'tp_speedup_vs_1_thread {$tp2/$gpt1:.2f}'); print(f'tp_speedup_vs_2_threads {$tp2/$gpt2:.2f}')"
