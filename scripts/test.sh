#!/usr/bin/env bash
# The test command: sets up and builds what is missing, then runs the whole test suite.
# Usage: scripts/test.sh [extra ctest arguments, e.g. -L unit or -R Config]
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh
scripts/build.sh
cd build
ctest --output-on-failure -j "$(nproc)" "$@"
