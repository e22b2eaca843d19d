#!/usr/bin/env bash
# Benchmarks quantized linear layers (float32 / int8 / nf4 / int4 forward, bytes per weight) and
# gradient checkpointing on gpt-125m (step time, activation memory) on the CPU.
# Usage: scripts/bench_adapters.sh [Google Benchmark flags, e.g. --benchmark_filter=Quantized]
set -euo pipefail
cd "$(dirname "$0")/.."
STRATUM_BENCHMARKS=1 scripts/build.sh >/dev/null
exec build/bin/stratum_bench_adapters "$@"
