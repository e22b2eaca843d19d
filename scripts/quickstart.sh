#!/usr/bin/env bash
# The main job: sets up and builds what is missing, then trains the Fashion-MNIST quickstart
# on the CPU. Extra arguments go to `stratum train` (e.g. --set trainer.epochs=1).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh --no-python
scripts/build.sh
exec build/bin/stratum train --config configs/quickstart.yaml "$@"
