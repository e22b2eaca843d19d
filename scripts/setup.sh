#!/usr/bin/env bash
# Installs everything Stratum needs on a fresh Debian 12 machine. Idempotent: installs only
# what is missing, so it is cheap to run before every build.
set -euo pipefail

PACKAGES=(
  build-essential cmake ninja-build ccache pkg-config
  libtorch-dev libgloo-dev            # Debian's LibTorch 1.13 (CPU) and the Gloo headers c10d needs
  libopenblas0-pthread                # fast BLAS for LibTorch (the reference BLAS is ~28x slower)
  libyaml-cpp-dev libspdlog-dev libfmt-dev nlohmann-json3-dev zlib1g-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  dataset-fashion-mnist fortunes      # the bundled data sets
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
