#!/usr/bin/env bash
# Benchmarks data.redact: the redactor alone (records/s on one core) and whole ingestion with the
# policy on and off (tests/bench/redaction_bench.cpp).
# Usage: scripts/bench_redaction.sh [Google Benchmark flags, e.g. --benchmark_min_time=2]
set -euo pipefail
cd "$(dirname "$0")/.."
STRATUM_BENCHMARKS=1 scripts/build.sh >/dev/null
export OMP_NUM_THREADS=1
exec taskset -c 0 build/bin/stratum_bench_redaction --benchmark_min_time=1 "$@"
