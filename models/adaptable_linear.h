#pragma once
// A linear layer that transforms applied after construction (LoRA, quantized bases) can hook
// into: a torch::nn::Linear in every respect (parameters `weight` and `bias`, initialisation,
// `as<torch::nn::Linear>()`), plus one adapter slot its forward pass goes through.

#include <torch/nn/modules/linear.h>

#include <memory>
#include <string>

namespace stratum::models {

/// What an adapter does to a linear layer's output.
class LinearAdapter : public torch::nn::Module {
 public:
  /// The layer's output for input `x`, given its plain output `base` = x Wᵀ + b.
  virtual torch::Tensor adapt(const torch::Tensor& x, const torch::Tensor& base) = 0;
};

/// torch::nn::Linear with an adapter slot.
class AdaptableLinearImpl : public torch::nn::LinearImpl {
 public:
  using torch::nn::LinearImpl::LinearImpl;

  torch::Tensor forward(const torch::Tensor& x);

  /// Installs `adapter` as submodule `name` (its parameters become `<layer>.<name>.*`).
  void set_adapter(const std::string& name, std::shared_ptr<LinearAdapter> adapter);
  const std::shared_ptr<LinearAdapter>& adapter() const { return adapter_; }

 private:
  std::shared_ptr<LinearAdapter> adapter_;
};
TORCH_MODULE(AdaptableLinear);

}  // namespace stratum::models
