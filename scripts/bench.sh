#!/usr/bin/env bash
# Stratum's benchmarks side by side with PyTorch on the same LibTorch (scripts/bench.py says
# what is measured). Usage: scripts/bench.sh [--quick]
#   --quick   under 5 minutes on a 2-core machine: fewer steps and comparisons
# Needs Debian's python3-torch (the Python side of the Debian LibTorch; installed here when
# missing) and, for the second set of comparisons, build-cuda/ and the venv (scripts/setup.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
if ! /usr/bin/python3 -c "import torch" 2>/dev/null; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  echo "bench: installing Debian's python3-torch (PyTorch 1.13 on the Debian build's LibTorch)"
  $SUDO apt-get install -y -q python3-torch >/dev/null
fi
mkdir -p bench-results
build() { STRATUM_BENCHMARKS=1 scripts/build.sh "$@" > bench-results/build.log 2>&1 || { tail -20 bench-results/build.log; exit 1; }; }
build
if [ -d build-cuda ] && [ -x .venv/bin/python ]; then build --cuda; fi
exec /usr/bin/python3 scripts/bench.py "$@"
