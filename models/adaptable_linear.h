#pragma once
// A linear layer that transforms applied after construction (LoRA, quantized bases) can hook
// into: a torch::nn::Linear in every respect (parameters `weight` and `bias`, initialisation,
// `as<torch::nn::Linear>()`), plus one adapter slot its forward pass goes through and the
// option to hold its frozen weight packed (quantized) instead of as a float parameter.

#include <torch/nn/modules/linear.h>

#include <memory>
#include <string>

#include "models/adapter_module.h"
#include "models/tensor_parallel_ops.h"

namespace stratum::models {

/// What an adapter does to a linear layer's output.
class LinearAdapter : public AdapterModule {
 public:
  /// The layer's output for input `x` (this rank's slice of it in a row-split layer), given its
  /// plain output `base` = x Wᵀ + b; `split` is null unless the layer is tensor-parallel.
  virtual torch::Tensor adapt(const torch::Tensor& x, const torch::Tensor& base, const LinearSplit* split) = 0;
};

/// A frozen (out, in) weight held in a compact form; its buffers are the stored data.
class PackedWeight : public torch::nn::Module {
 public:
  /// The weight as a dense (out, in) tensor of `dtype`.
  virtual torch::Tensor unpack(torch::ScalarType dtype) const = 0;
  /// "int8", "nf4", ...
  virtual std::string format() const = 0;
  /// Bytes of storage, scales included.
  int64_t bytes() const;
  /// Number of weights represented (out × in).
  int64_t numel() const { return out_features * in_features; }

  int64_t out_features = 0, in_features = 0;
};

/// torch::nn::Linear with an adapter slot and an optional packed frozen weight.
class AdaptableLinearImpl : public torch::nn::LinearImpl {
 public:
  using torch::nn::LinearImpl::LinearImpl;

  torch::Tensor forward(const torch::Tensor& x);

  /// Installs `adapter` as submodule `name` (its parameters become `<layer>.<name>.*`).
  void set_adapter(const std::string& name, std::shared_ptr<LinearAdapter> adapter);
  const std::shared_ptr<LinearAdapter>& adapter() const { return adapter_; }

  /// Replaces the float parameter `weight` by `packed` (submodule "quant"); the float copy
  /// is released. The packed weight is frozen: gradients flow to the input only.
  void pack_weight(std::shared_ptr<PackedWeight> packed);
  /// Restores `weight` as a float32 parameter from the packed form (frozen).
  void unpack_weight();
  const std::shared_ptr<PackedWeight>& packed_weight() const { return packed_; }

  /// Splits the layer over a tensor-parallel group; `weight` and `bias` must already hold this
  /// rank's slices (column: rows and bias; row: columns, the bias whole).
  void set_split(LinearSplit split);

  /// The device the layer's weights live on.
  torch::Device device() const;

 private:
  std::shared_ptr<LinearAdapter> adapter_;
  std::shared_ptr<PackedWeight> packed_;
  std::shared_ptr<LinearSplit> split_;
};
TORCH_MODULE(AdaptableLinear);

}  // namespace stratum::models
