#!/usr/bin/env bash
# The test command: sets up and builds what is missing, then runs the whole test suite against
# both LibTorch flavours: Debian's 1.13 (build/) and the PyTorch 2.11 wheel's, CUDA 13 and NCCL
# compiled in, run here on the CPU (build-cuda/).
# Usage: scripts/test.sh [extra ctest arguments, e.g. -L unit or -R Config]
set -euo pipefail
cd "$(dirname "$0")/.."

# Each phase's time goes to the log: CI's record of what the two builds cost.
phase() {
  local name=$1 start=$SECONDS
  shift
  "$@"
  echo "== $name: $((SECONDS - start)) s"
}
phase setup scripts/setup.sh
phase "build/ (Debian LibTorch)" scripts/build.sh
phase "build-cuda/ (PyTorch 2.11 wheel)" scripts/build.sh --cuda
status=0
for dir in build build-cuda; do
  echo "== $dir: $("$dir/bin/stratum" info | grep '^LibTorch')"
  start=$SECONDS
  (cd "$dir" && ctest --output-on-failure -j "$(nproc)" "$@") || status=1
  echo "== $dir tests: $((SECONDS - start)) s"
done
echo "== total: $SECONDS s"
exit $status
