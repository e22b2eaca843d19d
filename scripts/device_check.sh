#!/usr/bin/env bash
# The GPU device check (issue: the GPU build). Two steps:
#
#   scripts/device_check.sh --prepare
#       Here, with network: download Debian's .deb files for what the GPU image lacks
#       (yaml-cpp, spdlog, fmt, GoogleTest, Google Benchmark, nlohmann-json, zlib headers, RE2) and
#       extract them into third_party/debs/root (git-ignored; carry it to the device).
#   scripts/device_check.sh --nccl
#       On the GPU machine, without building: run build-cuda/bin/stratum_nccl_check, built here
#       against the venv's torch 2.11.0+cu130 (the GPU image's python3 has the same wheel), with
#       that python3's LibTorch; then, when build-cuda/bin/stratum was carried too, start two
#       workers with torchrun to see them through its agent's store. Carry
#       ["build-cuda/bin/stratum_nccl_check", "build-cuda/bin/stratum", "third_party/debs"].
#   scripts/device_check.sh
#       On the GPU machine (CUDA 13, nvcc, python3 with torch 2.11.0+cu130, no network):
#       build build-device/ against python3's LibTorch with every core, run the test suite on
#       the GPU, then train vit-s16 and gpt-125m in bf16 for a fixed number of steps in Stratum
#       and in PyTorch (eager and torch.compile, scripts/bench_train_step.py), and print one
#       table: images/s or tokens/s, MFU, peak memory, final loss.
#
# Environment: DEVICE_CHECK_STEPS (default 20), DEVICE_CHECK_TEST_TIMEOUT (ctest, default 240 s).
set -euo pipefail
cd "$(dirname "$0")/.."

DEBS=third_party/debs
ROOT="$DEBS/root"
PACKAGES=(libyaml-cpp-dev libyaml-cpp0.7 libspdlog-dev libspdlog1.10 libfmt-dev libfmt9 libgtest-dev libgmock-dev
          libbenchmark-dev libbenchmark1debian nlohmann-json3-dev zlib1g-dev zlib1g libre2-dev libre2-9)

if [ "${1:-}" = "--prepare" ]; then
  mkdir -p "$DEBS" "$ROOT"
  (cd "$DEBS" && for attempt in 1 2 3; do apt-get download "${PACKAGES[@]}" && break; sleep 5; done)
  for deb in "$DEBS"/*.deb; do dpkg-deb -x "$deb" "$ROOT"; done
  # pkg-config files (RE2's) name /usr; make them point at the extracted tree wherever it lands.
  find "$ROOT" -name '*.pc' -exec sed -i 's|^prefix=/usr$|prefix=${pcfiledir}/../../..|' {} +
  echo "device_check: extracted $(ls "$DEBS"/*.deb | wc -l) packages into $ROOT; run with carry: [\"$DEBS\"]"
  exit 0
fi

if [ "${1:-}" = "--nccl" ]; then
  TORCH_LIB="$("${PYTHON:-python3}" -c 'import os, torch; print(os.path.join(os.path.dirname(torch.__file__), "lib"))')"
  export LD_LIBRARY_PATH="$TORCH_LIB:$PWD/$ROOT/usr/lib/$(gcc -dumpmachine 2>/dev/null || echo x86_64-linux-gnu)${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
  status=0
  build-cuda/bin/stratum_nccl_check || status=1
  if [ -x build-cuda/bin/stratum ]; then
    # torchrun's agent hosts the store (TORCHELASTIC_USE_AGENT_STORE) and both workers must get
    # through it; with one GPU rank 1 then stops, naming LOCAL_RANK, which ends the job.
    echo "== torchrun (${PYTHON:-python3} -m torch.distributed.run), 2 workers, $(nvidia-smi -L | wc -l) GPU(s)"
    "${PYTHON:-python3}" -m torch.distributed.run --nproc-per-node 2 --master-port 29533 --no-python \
      build-cuda/bin/stratum train --config configs/synthetic-drift.yaml --set trainer.device=cuda \
      --set trainer.steps=2 --set distributed.init_timeout_s=60 --set run.output_dir=/tmp/torchrun-check 2>&1 |
      grep -E "process group|LOCAL_RANK|rendezvous|store|error" | head -8 || true
  fi
  exit $status
fi

[ -d "$ROOT/usr/include/yaml-cpp" ] || { echo "device_check: error: $ROOT is missing; run scripts/device_check.sh --prepare first" >&2; exit 2; }
PYTHON="${PYTHON:-python3}"
TORCH_DIR="$("$PYTHON" -c 'import os, torch; print(os.path.dirname(torch.__file__))')"
CUDA_DIR="${CUDA_HOME:-/usr/local/cuda}"
ARCH="$(gcc -dumpmachine)"
export LD_LIBRARY_PATH="$PWD/$ROOT/usr/lib/$ARCH${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export TORCH_CUDA_ARCH_LIST="${TORCH_CUDA_ARCH_LIST:-9.0}"
STEPS="${DEVICE_CHECK_STEPS:-20}"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true

echo "== build (LibTorch $("$PYTHON" -c 'import torch; print(torch.__version__)'), $(nproc) cores)"
start=$(date +%s)
cmake -S . -B build-device -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_PREFIX_PATH="$TORCH_DIR/share/cmake;$TORCH_DIR;$PWD/$ROOT/usr" -DCUDAToolkit_ROOT="$CUDA_DIR" \
  -DCMAKE_CUDA_COMPILER="$CUDA_DIR/bin/nvcc" -DSTRATUM_USE_PCH=ON > build-device.configure.log
cmake --build build-device -j "$(nproc)" --target all stratum_benchmarks
echo "build: $(( $(date +%s) - start )) s"

echo "== tests on the GPU (parity tests need the project venv and are left to CI)"
(cd build-device && ctest -j "$(nproc)" --timeout "${DEVICE_CHECK_TEST_TIMEOUT:-240}" -E ReferenceParity) || echo "device_check: some tests failed (see above)"

echo "== training steps (bf16, $STEPS timed steps after 5 warm-up steps)"
results=()
run() { results+=("$("$@" | tail -1)"); }
run build-device/bin/stratum_bench_train_step --model vit-s16 --batch 128 --steps "$STEPS" --device cuda
run "$PYTHON" scripts/bench_train_step.py --model vit-s16 --batch 128 --steps "$STEPS" --mode eager
run "$PYTHON" scripts/bench_train_step.py --model vit-s16 --batch 128 --steps "$STEPS" --mode compile
run build-device/bin/stratum_bench_train_step --model gpt-125m --batch 8 --seq 1024 --steps "$STEPS" --device cuda
run "$PYTHON" scripts/bench_train_step.py --model gpt-125m --batch 8 --seq 1024 --steps "$STEPS" --mode eager
run "$PYTHON" scripts/bench_train_step.py --model gpt-125m --batch 8 --seq 1024 --steps "$STEPS" --mode compile

printf '%s\n' "${results[@]}" | "$PYTHON" scripts/bench_train_step.py --table
echo "gpt-125m with the unfused AdamW (for the fused kernel's share):"
build-device/bin/stratum_bench_train_step --model gpt-125m --batch 8 --seq 1024 --steps "$STEPS" --device cuda --fused off | tail -1

echo "== gpt-125m on fortunes through stratum train, bf16, 200 steps: energy (NVML's counter, eval.json) and"
echo "   trainer.assert_no_sync (a host synchronization in a step between logging steps fails the run)"
energy_dir="$(mktemp -d)"
if build-device/bin/stratum train --config configs/gpt-fortunes.yaml --set model.name=gpt-125m --set trainer.device=cuda \
     --set trainer.precision=bf16 --set trainer.steps=200 --set trainer.batch_size=8 --set data.text.max_length=1024 \
     --set eval.every=0 --set eval.max_samples=64 --set logging.sample_every=0 --set logging.every=50 \
     --set trainer.assert_no_sync=true --set run.output_dir="$energy_dir" --set audit.enabled=false \
     > "$energy_dir/train.out" 2>&1; then
  echo "assert_no_sync: PASS (no host synchronization in the 196 unlogged steps)"
else
  echo "assert_no_sync: FAIL"
  tail -3 "$energy_dir/train.out"
fi
"$PYTHON" - "$energy_dir" <<'PY'
import glob, json, sys
for path in glob.glob(sys.argv[1] + "/*/eval.json"):
    e = json.load(open(path))["energy"]
    print("energy:", json.dumps(e))
PY
