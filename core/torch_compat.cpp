#include "core/torch_compat.h"

#include <torch/cuda.h>
#include <torch/version.h>
#include <ATen/Version.h>

namespace stratum::compat {

std::string torch_version() {
  return std::to_string(TORCH_VERSION_MAJOR) + "." + std::to_string(TORCH_VERSION_MINOR) + "." +
         std::to_string(TORCH_VERSION_PATCH);
}

bool cuda_available() { return torch::cuda::is_available(); }

bool nccl_available() {
  // The build configuration string is the one place both LibTorch flavours report this.
  const std::string config = at::show_config();
  return config.find("USE_NCCL=ON") != std::string::npos || config.find("USE_NCCL=1") != std::string::npos;
}

bool gloo_available() {
#ifdef STRATUM_HAVE_GLOO
  return true;
#else
  return false;
#endif
}

bool has_fused_attention() { return TORCH_VERSION_MAJOR >= 2; }

}  // namespace stratum::compat
