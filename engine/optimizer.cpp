#include "engine/optimizer.h"

#include <torch/nn/module.h>
#include <torch/optim/adamw.h>
#include <torch/optim/sgd.h>

#include "core/error.h"
#include "core/log.h"
#include "core/torch_compat.h"
#include "engine/fused_adamw.h"

namespace stratum {
namespace {

bool wants_decay(const std::string& name, const torch::Tensor& p, const TrainerOptions& options) {
  if (p.dim() < 2) return false;
  for (const auto& pattern : options.no_decay) {
    if (name.find(pattern) != std::string::npos) return false;
  }
  return true;
}

}  // namespace

bool uses_fused_adamw(const TrainerOptions& options, bool cuda) {
  if (options.optimizer != OptimizerKind::adamw || options.fused_adamw == FusedAdamWChoice::off) return false;
  // auto: on CUDA, where one kernel instead of several per tensor pays; the CPU keeps the
  // reference implementation unless asked.
  if (options.fused_adamw == FusedAdamWChoice::automatic) return cuda && compat::has_fused_adamw(true);
  if (compat::has_fused_adamw(cuda)) return true;
  {
    throw UserError(std::string("trainer.fused_adamw: on, but LibTorch ") + compat::torch_version() +
                    " has no fused AdamW kernel for " + (cuda ? "CUDA (2.0 and later have it)" : "the CPU (2.4 and later have it)") +
                    "; use auto or off");
  }
  return false;
}

std::unique_ptr<torch::optim::Optimizer> make_optimizer(const TrainerOptions& options, torch::nn::Module& module,
                                                        bool cuda) {
  std::vector<torch::Tensor> decay, no_decay;
  for (const auto& item : module.named_parameters()) {
    if (!item.value().requires_grad()) continue;
    (wants_decay(item.key(), item.value(), options) ? decay : no_decay).push_back(item.value());
  }
  log::debug("optimizer: " + std::to_string(decay.size()) + " tensors with weight decay, " +
             std::to_string(no_decay.size()) + " without");

  if (options.optimizer == OptimizerKind::sgd) {
    auto with = std::make_unique<torch::optim::SGDOptions>(options.lr);
    with->momentum(options.momentum).weight_decay(options.weight_decay);
    auto without = std::make_unique<torch::optim::SGDOptions>(options.lr);
    without->momentum(options.momentum).weight_decay(0.0);
    std::vector<torch::optim::OptimizerParamGroup> groups;
    if (!decay.empty()) groups.emplace_back(decay, std::move(with));
    if (!no_decay.empty()) groups.emplace_back(no_decay, std::move(without));
    return std::make_unique<torch::optim::SGD>(std::move(groups), torch::optim::SGDOptions(options.lr));
  }
  const auto adamw = [&](double weight_decay) {
    auto o = std::make_unique<torch::optim::AdamWOptions>(options.lr);
    o->betas({options.beta1, options.beta2}).eps(options.eps).weight_decay(weight_decay);
    return o;
  };
  std::vector<torch::optim::OptimizerParamGroup> groups;
  if (!decay.empty()) groups.emplace_back(decay, adamw(options.weight_decay));
  if (!no_decay.empty()) groups.emplace_back(no_decay, adamw(0.0));
  if (uses_fused_adamw(options, cuda)) {
    log::debug("optimizer: AdamW with the fused kernel");
    return std::make_unique<FusedAdamW>(std::move(groups), torch::optim::AdamWOptions(options.lr));
  }
  return std::make_unique<torch::optim::AdamW>(std::move(groups), torch::optim::AdamWOptions(options.lr));
}

void set_learning_rate(torch::optim::Optimizer& optimizer, double lr) {
  for (auto& group : optimizer.param_groups()) group.options().set_lr(lr);
}

}  // namespace stratum
