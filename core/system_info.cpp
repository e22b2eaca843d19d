#include "core/system_info.h"

#include <sys/resource.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>

#include "core/torch_compat.h"

namespace stratum {

std::string loaded_blas() {
  std::ifstream maps("/proc/self/maps");
  std::string line;
  std::set<std::string> found;
  while (std::getline(maps, line)) {
    const auto slash = line.find('/');
    if (slash == std::string::npos) continue;
    const std::string path = line.substr(slash);
    const std::string name = std::filesystem::path(path).filename().string();
    // cuBLAS is the GPU's, not what CPU matrix products run on.
    if (name.find("cublas") != std::string::npos) continue;
    if (name.find("blas") != std::string::npos || name.find("mkl_rt") != std::string::npos) found.insert(path);
  }
  if (found.empty()) {
    // The PyTorch wheel links MKL statically: nothing to find in the map, so ask LibTorch.
    const std::string built = compat::built_in_blas();
    return built.empty() ? "none loaded" : built + ", linked into LibTorch";
  }
  std::string out;
  for (const auto& path : found) {
    std::error_code ec;
    const std::string real = std::filesystem::canonical(path, ec).string();
    std::string flavour = "reference BLAS";
    if (real.find("openblas") != std::string::npos) flavour = "OpenBLAS";
    else if (real.find("mkl") != std::string::npos) flavour = "MKL";
    else if (real.find("blis") != std::string::npos) flavour = "BLIS";
    else if (real.find("atlas") != std::string::npos) flavour = "ATLAS";
    if (!out.empty()) out += ", ";
    out += (ec ? path : real) + " (" + flavour + ")";
  }
  return out;
}

long peak_rss_bytes() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss * 1024L;
}

uint64_t available_memory_bytes() {
  uint64_t available = 0;
  std::ifstream meminfo("/proc/meminfo");
  std::string key;
  uint64_t kib = 0;
  std::string unit;
  while (meminfo >> key >> kib >> unit) {
    if (key == "MemAvailable:") {
      available = kib * 1024;
      break;
    }
  }
  // A container's limit binds before the host's free memory does.
  std::ifstream max("/sys/fs/cgroup/memory.max"), current("/sys/fs/cgroup/memory.current");
  std::string limit;
  uint64_t used = 0;
  if (max >> limit && limit != "max" && current >> used) {
    const uint64_t cap = std::strtoull(limit.c_str(), nullptr, 10);
    const uint64_t left = cap > used ? cap - used : 0;
    if (available == 0 || left < available) available = left;
  }
  return available;
}

}  // namespace stratum
