#include "engine/fused_adamw.h"

#include <sstream>
#include <string>
#include <type_traits>

#include "core/torch_compat.h"

namespace stratum {
namespace {

// The optimizer's state map is keyed by the parameter's TensorImpl: by its address printed as
// text in LibTorch 1.x, by the pointer itself in 2.x. The key type says which.
template <class Key>
Key state_key(const torch::Tensor& p) {
  if constexpr (std::is_same_v<Key, std::string>) {
    std::ostringstream key;
    key << static_cast<const void*>(p.unsafeGetTensorImpl());
    return key.str();
  } else {
    return p.unsafeGetTensorImpl();
  }
}

}  // namespace

torch::Tensor FusedAdamW::step(LossClosure closure) {
  torch::NoGradGuard no_grad;
  torch::Tensor loss;
  if (closure) {
    at::AutoGradMode enable_grad(true);
    loss = closure();
  }
  for (auto& group : param_groups_) {
    const auto& options = static_cast<const torch::optim::AdamWOptions&>(group.options());
    TORCH_CHECK(!options.amsgrad(), "FusedAdamW has no AMSGrad");
    std::vector<torch::Tensor> params, grads, exp_avgs, exp_avg_sqs, steps;
    for (auto& p : group.params()) {
      if (!p.grad().defined()) continue;
      TORCH_CHECK(!p.grad().is_sparse(), "FusedAdamW does not support sparse gradients");
      auto& slot = state_[state_key<std::decay_t<decltype(state_)>::key_type>(p)];
      if (!slot) {
        auto fresh = std::make_unique<torch::optim::AdamWParamState>();
        fresh->step(0);
        fresh->exp_avg(torch::zeros_like(p, torch::MemoryFormat::Preserve));
        fresh->exp_avg_sq(torch::zeros_like(p, torch::MemoryFormat::Preserve));
        slot = std::move(fresh);
      }
      auto& state = static_cast<torch::optim::AdamWParamState&>(*slot);
      DeviceStep& device = device_steps_[p.unsafeGetTensorImpl()];
      if (device.host != state.step() || !device.count.defined()) {
        device.count = torch::full({}, static_cast<double>(state.step()), p.options().dtype(torch::kFloat32));
      }
      state.step(state.step() + 1);
      device.host = state.step();
      params.push_back(p);
      grads.push_back(p.grad());
      exp_avgs.push_back(state.exp_avg());
      exp_avg_sqs.push_back(state.exp_avg_sq());
      steps.push_back(device.count);
    }
    if (params.empty()) continue;
    // The kernel reads the step it is taking: counts go up first, on the device, in one kernel.
    at::_foreach_add_(steps, 1);
    const auto& betas = options.betas();
    compat::fused_adamw_step(params, grads, exp_avgs, exp_avg_sqs, steps, options.lr(), std::get<0>(betas),
                             std::get<1>(betas), options.weight_decay(), options.eps());
  }
  return loss;
}

}  // namespace stratum
