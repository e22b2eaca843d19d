#!/usr/bin/env bash
# The test command: sets up and builds what is missing, then runs the whole test suite against
# both LibTorch flavours: Debian's 1.13 (build/) and the PyTorch 2.11 wheel's, CUDA 13 and NCCL
# compiled in, run here on the CPU (build-cuda/).
# Usage: scripts/test.sh [extra ctest arguments, e.g. -L unit or -R Config]
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh
scripts/build.sh
scripts/build.sh --cuda
status=0
for dir in build build-cuda; do
  echo "== $dir: $("$dir/bin/stratum" info | grep '^LibTorch')"
  (cd "$dir" && ctest --output-on-failure -j "$(nproc)" "$@") || status=1
done
exit $status
