#include "core/system_info.h"

#include <sys/resource.h>

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

}  // namespace stratum
