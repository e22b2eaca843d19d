#include "models/adaptable_linear.h"

#include <torch/csrc/autograd/function.h>
#include <torch/csrc/autograd/functions/utils.h>
#include <torch/torch.h>

#include "core/error.h"

namespace stratum::models {
namespace {

// Backward of y = x Wᵀ for a packed, frozen W: grad_x = grad_y W, with W unpacked again
// instead of a float copy kept alive from the forward pass to the backward pass (which would
// undo the memory the packing saves).
struct PackedMatmulBackward : public torch::autograd::Node {
  std::shared_ptr<PackedWeight> weight;
  torch::ScalarType input_dtype = torch::kFloat32;

  torch::autograd::variable_list apply(torch::autograd::variable_list&& grads) override {
    const torch::Tensor& grad = grads.at(0);
    const torch::Tensor w = weight->unpack(grad.scalar_type());
    return {torch::matmul(grad, w).to(input_dtype)};
  }

  void release_variables() override { weight.reset(); }
};

torch::Tensor packed_matmul(const std::shared_ptr<PackedWeight>& weight, const torch::Tensor& x) {
  torch::Tensor out;
  {
    torch::NoGradGuard no_grad;
    out = torch::matmul(x, weight->unpack(x.scalar_type()).t());
  }
  if (torch::GradMode::is_enabled() && x.requires_grad()) {
    auto node = std::shared_ptr<PackedMatmulBackward>(new PackedMatmulBackward(), torch::autograd::deleteNode);
    node->weight = weight;
    node->input_dtype = x.scalar_type();
    node->set_next_edges(torch::autograd::collect_next_edges(x));
    torch::autograd::set_history(out, node);
  }
  return out;
}

}  // namespace

int64_t PackedWeight::bytes() const {
  int64_t total = 0;
  for (const auto& b : buffers()) total += b.numel() * static_cast<int64_t>(b.element_size());
  return total;
}

torch::Tensor AdaptableLinearImpl::forward(const torch::Tensor& x) {
  torch::Tensor base;
  if (split_ && split_->kind == LinearSplit::Kind::column) {
    base = torch::nn::functional::linear(split_->ops->copy_to_group(x), weight, bias);
  } else if (split_) {
    // The partial products are summed before the bias, which every rank holds whole.
    base = split_->ops->reduce_from_group(torch::matmul(x, weight.t()));
    if (bias.defined()) base = base + bias;
  } else if (packed_) {
    base = packed_matmul(packed_, x);
    if (bias.defined()) base = base + bias;
  } else {
    base = torch::nn::LinearImpl::forward(x);
  }
  return adapter_ ? adapter_->adapt(x, base, split_.get()) : base;
}

void AdaptableLinearImpl::set_split(LinearSplit split) {
  STRATUM_CHECK(!packed_ && !split_ && split.ops, "a tensor-parallel layer holds float weights and is split once");
  split_ = std::make_shared<LinearSplit>(std::move(split));
}

void AdaptableLinearImpl::set_adapter(const std::string& name, std::shared_ptr<LinearAdapter> adapter) {
  STRATUM_CHECK(!adapter_, "a linear layer takes one adapter");
  adapter_ = register_module(name, std::move(adapter));
}

void AdaptableLinearImpl::pack_weight(std::shared_ptr<PackedWeight> packed) {
  STRATUM_CHECK(!packed_ && weight.defined(), "a linear layer's weight is packed once");
  STRATUM_CHECK(!split_, "a tensor-parallel layer's weight is not packed");
  STRATUM_CHECK(packed->out_features == weight.size(0) && packed->in_features == weight.size(1),
                "packed weight shape differs from the layer's");
  parameters_.erase("weight");  // a subclass may: Module keeps its parameters in a protected dict
  weight = torch::Tensor();
  packed_ = register_module("quant", std::move(packed));
}

void AdaptableLinearImpl::unpack_weight() {
  if (!packed_) return;
  const torch::Tensor dense = packed_->unpack(torch::kFloat32);
  unregister_module("quant");
  packed_.reset();
  weight = register_parameter("weight", dense, /*requires_grad=*/false);
}

torch::Device AdaptableLinearImpl::device() const {
  if (weight.defined()) return weight.device();
  for (const auto& b : packed_->buffers()) return b.device();
  return torch::kCPU;
}

}  // namespace stratum::models
