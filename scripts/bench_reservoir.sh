#!/usr/bin/env bash
# Benchmarks the stratified reservoir's offer path (records/s, bytes per stored item).
# Usage: scripts/bench_reservoir.sh [Google Benchmark flags, e.g. --benchmark_min_time=2]
set -euo pipefail
cd "$(dirname "$0")/.."
STRATUM_BENCHMARKS=1 scripts/build.sh >/dev/null
exec build/bin/stratum_bench_reservoir --benchmark_min_time=1 "$@"
