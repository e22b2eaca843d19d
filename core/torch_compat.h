#pragma once
// Every difference between the two supported LibTorch builds (Debian's 1.13 CPU build and the
// PyTorch wheel's 2.x CUDA build) lives here. Nothing else tests TORCH_VERSION.

#include <cstdint>
#include <string>
#include <vector>

namespace at {
class Tensor;
}

namespace stratum::compat {

/// The LibTorch version this binary was compiled against, e.g. "1.13.0".
std::string torch_version();

/// The BLAS LibTorch's build configuration names (BLAS_INFO, e.g. "mkl"), or "".
std::string built_in_blas();

/// True when a CUDA device is usable at run time.
bool cuda_available();

/// Number of visible CUDA devices (0 without CUDA).
int cuda_device_count();

/// True when the LibTorch build includes the c10d NCCL process group.
bool nccl_available();

/// True when the c10d Gloo process group was compiled into Stratum.
bool gloo_available();

/// Name of CUDA device `index` ("" without CUDA).
std::string cuda_device_name(int index = 0);

/// Peak bytes the CUDA caching allocator has handed out on device `index` since start (0
/// without CUDA).
int64_t cuda_peak_allocated_bytes(int index = 0);

/// Waits for all work queued on the current CUDA device (nothing without CUDA).
void cuda_synchronize();

/// True when LibTorch has the fused scaled-dot-product attention kernel (2.0 and later).
bool has_fused_attention();

/// softmax(q kᵀ / √d) v through LibTorch's fused kernel; `mask` (undefined, or boolean with
/// true = may attend, broadcastable to (B, H, T, S)) and `causal` restrict the keys. Only
/// valid when has_fused_attention(); models/attention.cpp falls back to explicit math.
at::Tensor fused_attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, const at::Tensor& mask,
                           double dropout_p, bool causal);

/// Whether LibTorch has the fused AdamW kernel (`_fused_adamw_`) for tensors on `cuda` (2.0
/// and later) or on the CPU (2.4 and later).
bool has_fused_adamw(bool cuda);

/// One AdamW step over whole lists of tensors in one fused kernel (decoupled weight decay, no
/// AMSGrad): `steps` are float tensors on the parameters' device already counting this step.
/// Only valid where has_fused_adamw().
void fused_adamw_step(const std::vector<at::Tensor>& params, const std::vector<at::Tensor>& grads,
                      const std::vector<at::Tensor>& exp_avgs, const std::vector<at::Tensor>& exp_avg_sqs,
                      const std::vector<at::Tensor>& steps, double lr, double beta1, double beta2, double weight_decay,
                      double eps);

/// Whether float32 matrix products (and cuDNN convolutions) on CUDA may use TF32 tensor cores.
void allow_tf32(bool allowed);

/// While alive, a CUDA operation that waits for the device from the host (a copy to the host,
/// `.item()`, a synchronizing allocation) throws instead of running: how a training step proves it
/// never stalls the host. Nothing without CUDA.
class NoCudaSyncScope {
 public:
  NoCudaSyncScope();
  ~NoCudaSyncScope();
  NoCudaSyncScope(const NoCudaSyncScope&) = delete;
  NoCudaSyncScope& operator=(const NoCudaSyncScope&) = delete;

 private:
  int previous_ = 0;
};

/// Whether autocast can run float16 on the CPU (LibTorch 2.4 and later); on CUDA it always can.
bool cpu_half_autocast();

/// Mixed precision for the forward pass: while alive, eligible ops on `cuda` (else the CPU)
/// run in bfloat16 (or float16 when `half`), parameters stay float32. The previous autocast
/// state is restored on destruction.
class AutocastScope {
 public:
  AutocastScope(bool cuda, bool half);
  ~AutocastScope();
  AutocastScope(const AutocastScope&) = delete;
  AutocastScope& operator=(const AutocastScope&) = delete;

 private:
  bool cuda_;
  bool was_enabled_;
  int previous_dtype_;  // at::ScalarType, kept opaque so this header stays light
};

}  // namespace stratum::compat
