#include "models/adaptable_linear.h"

#include <torch/torch.h>

#include "core/error.h"

namespace stratum::models {

torch::Tensor AdaptableLinearImpl::forward(const torch::Tensor& x) {
  torch::Tensor base = torch::nn::LinearImpl::forward(x);
  return adapter_ ? adapter_->adapt(x, base) : base;
}

void AdaptableLinearImpl::set_adapter(const std::string& name, std::shared_ptr<LinearAdapter> adapter) {
  STRATUM_CHECK(!adapter_, "a linear layer takes one adapter");
  adapter_ = register_module(name, std::move(adapter));
}

}  // namespace stratum::models
