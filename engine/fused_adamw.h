#pragma once
// AdamW whose step is one fused kernel per parameter group (LibTorch's `_fused_adamw_`) instead
// of a handful of element-wise kernels per tensor. Its state is torch::optim::AdamW's, so a
// checkpoint written by one loads into the other.

#include <torch/optim/adamw.h>

#include <unordered_map>

namespace stratum {

/// torch::optim::AdamW with a fused step (where compat::has_fused_adamw() holds for the device).
class FusedAdamW : public torch::optim::AdamW {
 public:
  using torch::optim::AdamW::AdamW;
  torch::Tensor step(LossClosure closure = nullptr) override;

 private:
  // Each parameter's step count as a float tensor on its device (what the kernel reads), next
  // to the host count it was made from: rebuilt when the state was loaded or reset.
  struct DeviceStep {
    torch::Tensor count;
    int64_t host = -1;
  };
  std::unordered_map<const void*, DeviceStep> device_steps_;
};

}  // namespace stratum
