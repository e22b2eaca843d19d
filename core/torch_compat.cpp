#include "core/torch_compat.h"

#include <torch/cuda.h>
#include <torch/version.h>
#include <ATen/Version.h>
#include <ATen/autocast_mode.h>
#include <ATen/ATen.h>

#include <stdexcept>

#ifdef STRATUM_TORCH_CUDA  // set by CMake when the LibTorch in use has its CUDA libraries
#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDACachingAllocator.h>
#include <c10/cuda/CUDAFunctions.h>
#endif

namespace stratum::compat {

std::string torch_version() {
  return std::to_string(TORCH_VERSION_MAJOR) + "." + std::to_string(TORCH_VERSION_MINOR) + "." +
         std::to_string(TORCH_VERSION_PATCH);
}

std::string built_in_blas() {
  const std::string config = at::show_config();
  const std::string key = "BLAS_INFO=";
  const auto at_key = config.find(key);
  if (at_key == std::string::npos) return "";
  const auto begin = at_key + key.size();
  return config.substr(begin, config.find_first_of(", \n", begin) - begin);
}

bool cuda_available() { return torch::cuda::is_available(); }

#ifdef STRATUM_TORCH_CUDA
std::string cuda_device_name(int index) {
  return cuda_available() ? at::cuda::getDeviceProperties(static_cast<c10::DeviceIndex>(index))->name : "";
}

int64_t cuda_peak_allocated_bytes(int index) {
  if (!cuda_available()) return 0;
  const auto stats = c10::cuda::CUDACachingAllocator::getDeviceStats(static_cast<c10::DeviceIndex>(index));
  return stats.allocated_bytes[static_cast<size_t>(c10::CachingAllocator::StatType::AGGREGATE)].peak;
}

void cuda_synchronize() {
  if (cuda_available()) c10::cuda::device_synchronize();
}
#else
std::string cuda_device_name(int) { return ""; }
int64_t cuda_peak_allocated_bytes(int) { return 0; }
void cuda_synchronize() {}
#endif

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

int cuda_device_count() { return cuda_available() ? static_cast<int>(torch::cuda::device_count()) : 0; }

bool has_fused_attention() { return TORCH_VERSION_MAJOR >= 2; }

at::Tensor fused_attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, const at::Tensor& mask,
                           double dropout_p, bool causal) {
#if TORCH_VERSION_MAJOR >= 2
  return at::scaled_dot_product_attention(q, k, v, mask.defined() ? c10::optional<at::Tensor>(mask) : c10::nullopt,
                                          dropout_p, causal);
#else
  (void)q, (void)k, (void)v, (void)mask, (void)dropout_p, (void)causal;
  throw std::logic_error("fused attention needs LibTorch 2.0 or later");
#endif
}

bool has_fused_adamw(bool cuda) {
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
  (void)cuda;
  return true;
#elif TORCH_VERSION_MAJOR == 2
  return cuda;
#else
  (void)cuda;
  return false;
#endif
}

void fused_adamw_step(const std::vector<at::Tensor>& params, const std::vector<at::Tensor>& grads,
                      const std::vector<at::Tensor>& exp_avgs, const std::vector<at::Tensor>& exp_avg_sqs,
                      const std::vector<at::Tensor>& steps, double lr, double beta1, double beta2, double weight_decay,
                      double eps) {
#if TORCH_VERSION_MAJOR >= 2
  at::_fused_adamw_(params, grads, exp_avgs, exp_avg_sqs, /*max_exp_avg_sqs=*/{}, steps, lr, beta1, beta2, weight_decay, eps,
                    /*amsgrad=*/false, /*maximize=*/false);
#else
  (void)params, (void)grads, (void)exp_avgs, (void)exp_avg_sqs, (void)steps, (void)lr, (void)beta1, (void)beta2,
      (void)weight_decay, (void)eps;
  throw std::logic_error("the fused AdamW kernel needs LibTorch 2.0 or later");
#endif
}

void allow_tf32(bool allowed) {
  at::globalContext().setFloat32MatmulPrecision(allowed ? "high" : "highest");
  at::globalContext().setAllowTF32CuDNN(allowed);
}

#ifdef STRATUM_TORCH_CUDA
NoCudaSyncScope::NoCudaSyncScope() : previous_(static_cast<int>(c10::cuda::warning_state().get_sync_debug_mode())) {
  c10::cuda::warning_state().set_sync_debug_mode(c10::cuda::SyncDebugMode::L_ERROR);
}
NoCudaSyncScope::~NoCudaSyncScope() {
  c10::cuda::warning_state().set_sync_debug_mode(static_cast<c10::cuda::SyncDebugMode>(previous_));
}
#else
NoCudaSyncScope::NoCudaSyncScope() = default;
NoCudaSyncScope::~NoCudaSyncScope() = default;
#endif

namespace {

// LibTorch 2.4 replaced the per-device autocast setters with device-type arguments.
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
bool autocast_enabled(bool cuda) { return at::autocast::is_autocast_enabled(cuda ? at::kCUDA : at::kCPU); }
void set_autocast(bool cuda, bool enabled) { at::autocast::set_autocast_enabled(cuda ? at::kCUDA : at::kCPU, enabled); }
at::ScalarType autocast_dtype(bool cuda) { return at::autocast::get_autocast_dtype(cuda ? at::kCUDA : at::kCPU); }
void set_dtype(bool cuda, at::ScalarType dtype) { at::autocast::set_autocast_dtype(cuda ? at::kCUDA : at::kCPU, dtype); }
#else
bool autocast_enabled(bool cuda) { return cuda ? at::autocast::is_enabled() : at::autocast::is_cpu_enabled(); }
void set_autocast(bool cuda, bool enabled) {
  cuda ? at::autocast::set_enabled(enabled) : at::autocast::set_cpu_enabled(enabled);
}
at::ScalarType autocast_dtype(bool cuda) {
  return cuda ? at::autocast::get_autocast_gpu_dtype() : at::autocast::get_autocast_cpu_dtype();
}
void set_dtype(bool cuda, at::ScalarType dtype) {
  cuda ? at::autocast::set_autocast_gpu_dtype(dtype) : at::autocast::set_autocast_cpu_dtype(dtype);
}
#endif

}  // namespace

bool cpu_half_autocast() {
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
  return true;
#else
  return false;
#endif
}

AutocastScope::AutocastScope(bool cuda, bool half)
    : cuda_(cuda), was_enabled_(autocast_enabled(cuda)), previous_dtype_(static_cast<int>(autocast_dtype(cuda))) {
  set_dtype(cuda, half ? at::kHalf : at::kBFloat16);
  set_autocast(cuda, true);
}

AutocastScope::~AutocastScope() {
  set_autocast(cuda_, was_enabled_);
  set_dtype(cuda_, static_cast<at::ScalarType>(previous_dtype_));
  if (!was_enabled_) at::autocast::clear_cache();
}

}  // namespace stratum::compat
