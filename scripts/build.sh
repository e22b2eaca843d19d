#!/usr/bin/env bash
# Configures (once) and builds Stratum.
#   scripts/build.sh [extra CMake -D options...]          Debian's LibTorch 1.13 in build/
#   scripts/build.sh --cuda [extra CMake -D options...]   the PyTorch 2.11 wheel's LibTorch (CUDA 13,
#                                                          NCCL) from .venv in build-cuda/
# With STRATUM_BENCHMARKS=1 the benchmark executables are built too (scripts/bench*.sh set it;
# the test command does not need them).
set -euo pipefail
cd "$(dirname "$0")/.."

FLAVOUR=debian
if [ "${1:-}" = "--cuda" ]; then
  FLAVOUR=cuda
  shift
fi
# ccache and the precompiled LibTorch header work together only with these settings.
export CCACHE_SLOPPINESS="pch_defines,time_macros,include_file_mtime,include_file_ctime"

if [ "$FLAVOUR" = debian ]; then
  BUILD_DIR="${BUILD_DIR:-build}"
  CONFIGURE=()
else
  BUILD_DIR="${BUILD_DIR:-build-cuda}"
  if [ ! -x .venv/bin/python ]; then
    echo "build: error: .venv is missing; run scripts/setup.sh (it installs torch 2.11 there)" >&2
    exit 2
  fi
  TORCH_DIR="$(.venv/bin/python -c 'import os, torch; print(os.path.dirname(torch.__file__))')"
  CUDA_DIR="${CUDA_HOME:-/usr/local/cuda}"
  if [ ! -x "$CUDA_DIR/bin/nvcc" ]; then
    echo "build: error: no CUDA toolkit at $CUDA_DIR (set CUDA_HOME); the wheel's LibTorch needs it to configure" >&2
    exit 2
  fi
  # The torch folder itself comes second so find_library finds its lib/ before /usr/lib's
  # (Debian's) libtorch.so.
  export TORCH_CUDA_ARCH_LIST="${TORCH_CUDA_ARCH_LIST:-9.0}"
  CONFIGURE=(-DCMAKE_PREFIX_PATH="$TORCH_DIR/share/cmake;$TORCH_DIR" -DCUDAToolkit_ROOT="$CUDA_DIR"
             -DCMAKE_CUDA_COMPILER="$CUDA_DIR/bin/nvcc")
fi

if [ ! -f "$BUILD_DIR/build.ninja" ] || [ $# -gt 0 ]; then
  cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release "${CONFIGURE[@]}" "$@"
fi
cmake --build "$BUILD_DIR" -j "$(nproc)"
if [ "${STRATUM_BENCHMARKS:-0}" = 1 ]; then cmake --build "$BUILD_DIR" -j "$(nproc)" --target stratum_benchmarks; fi
