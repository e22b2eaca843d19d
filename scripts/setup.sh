#!/usr/bin/env bash
# Installs everything Stratum needs on a fresh Debian 12 machine. Idempotent: installs only
# what is missing, so it is cheap to run before every build.
# Usage: scripts/setup.sh [--no-python]
#   --no-python  skip the Python venv (.venv: torch 2.11 and the reference libraries the
#                parity tests compare with); the quickstart needs only the Debian packages.
set -euo pipefail
cd "$(dirname "$0")/.."

WITH_PYTHON=1
for arg in "$@"; do
  case "$arg" in
    --no-python) WITH_PYTHON=0 ;;
    *) echo "setup: error: unknown option $arg (usage: scripts/setup.sh [--no-python])" >&2; exit 2 ;;
  esac
done

PACKAGES=(
  build-essential cmake ninja-build ccache pkg-config
  libtorch-dev libgloo-dev            # Debian's LibTorch 1.13 (CPU) and the Gloo headers c10d needs
  libopenblas0-pthread                # fast BLAS for LibTorch (the reference BLAS is ~28x slower)
  libyaml-cpp-dev libspdlog-dev libfmt-dev nlohmann-json3-dev zlib1g-dev
  libzstd-dev zstd                    # zstd-compressed inputs (zstd: the tests compress with it)
  libturbojpeg0-dev libpng-dev libwebp-dev  # image decoding (source: image_folder, webdataset)
  libarchive-dev                      # tar shards (source: webdataset)
  libre2-dev                          # redaction patterns (data.redact)
  libgtest-dev libgmock-dev libbenchmark-dev
  dataset-fashion-mnist fortunes      # the bundled data sets
  python3 python3-venv                # the venv below
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  for attempt in 1 2 3; do
    if $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"; then
      break
    fi
    if [ "$attempt" -eq 3 ]; then
      echo "setup: error: apt-get could not install: ${missing[*]}" >&2
      exit 1
    fi
    echo "setup: apt-get failed (attempt $attempt), retrying in 10 s" >&2
    sleep 10
  done
fi

# LibTorch calls whatever libblas.so.3 the alternatives system points at: make it OpenBLAS.
triplet="$(gcc -dumpmachine)"
for lib in libblas.so.3 liblapack.so.3; do
  openblas="/usr/lib/${triplet}/openblas-pthread/${lib}"
  current="$(update-alternatives --query "${lib}-${triplet}" 2>/dev/null | sed -n 's/^Value: //p')"
  if [ -e "$openblas" ] && [ "$current" != "$openblas" ]; then
    $SUDO update-alternatives --set "${lib}-${triplet}" "$openblas" >/dev/null
  fi
done

# The Python venv: PyTorch 2.11 from PyPI (its LibTorch is the GPU build's target), the
# reference implementations the parity tests compare Stratum's models with, and TensorBoard
# (to read back the event files Stratum writes), statsmodels and krippendorff (the agreement
# statistics of `stratum qa agreement`), PEFT (the LoRA parity test) and bitsandbytes (the NF4
# parity test; its CPU backend runs here), Pillow and torchvision (the image pipeline's parity
# test and the Fashion-MNIST export to image folders and shards), Fairlearn and scikit-learn
# (the parity test of evaluation by slice), and pyarrow (Apache Arrow's C++ libraries and headers,
# which the build links for source: parquet, and the tests' Parquet writer). Several GB on
# first run, reused afterwards; a failed download is retried, and failing for good stops
# the run with a message instead of silently skipping the tests that need it.
PYTHON_PACKAGES=(torch==2.11.0 transformers==5.24.0 timm==1.0.31 safetensors==0.8.0 tensorboard==2.21.0
                 statsmodels==0.15.0 krippendorff==0.9.0 peft==0.21.2 bitsandbytes==0.50.2 pillow==13.0.0
                 torchvision==0.26.0 fairlearn==0.15.0 scikit-learn==1.9.1 pyarrow==26.0.1 numpy)
VENV=.venv
venv_ready() {
  "$VENV/bin/python" - <<'PY' 2>/dev/null
import importlib.metadata as m
wanted = {"torch": "2.11.0", "transformers": "5.24.0", "timm": "1.0.31", "safetensors": "0.8.0", "tensorboard": "2.21.0",
          "statsmodels": "0.15.0", "krippendorff": "0.9.0", "peft": "0.21.2",
          "bitsandbytes": "0.50.2", "pillow": "13.0.0", "torchvision": "0.26.0", "fairlearn": "0.15.0",
          "scikit-learn": "1.9.1", "pyarrow": "26.0.1"}
raise SystemExit(any(m.version(p).split("+")[0] != v for p, v in wanted.items()))
PY
}
if [ "$WITH_PYTHON" -eq 1 ] && ! venv_ready; then
  echo "setup: creating $VENV with ${PYTHON_PACKAGES[*]} (first run downloads several GB)"
  [ -x "$VENV/bin/python" ] || /usr/bin/env python3 -m venv "$VENV"
  for attempt in 1 2 3; do
    if "$VENV/bin/pip" install -q --retries 5 --timeout 60 "${PYTHON_PACKAGES[@]}"; then break; fi
    if [ "$attempt" -eq 3 ]; then
      echo "setup: error: pip could not install ${PYTHON_PACKAGES[*]} into $VENV (network or disk space?)" >&2
      exit 1
    fi
    echo "setup: pip failed (attempt $attempt), retrying in 10 s" >&2
    sleep 10
  done
  venv_ready || { echo "setup: error: $VENV does not hold the pinned versions after pip install" >&2; exit 1; }
fi
