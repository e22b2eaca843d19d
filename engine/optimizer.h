#pragma once
// Optimizer construction from the trainer config.

#include <torch/optim/optimizer.h>

#include <memory>

#include "engine/config.h"

namespace torch::nn {
class Module;
}

namespace stratum {

/// AdamW or SGD over `module`'s trainable parameters, in two groups: with weight decay, and
/// without it for 1-D parameters (biases, norms) and names matching `no_decay`. AdamW is the
/// fused kernel (FusedAdamW) when `trainer.fused_adamw` asks for it and LibTorch has it for
/// the parameters' device (`cuda`); `on` where it has not is a UserError.
std::unique_ptr<torch::optim::Optimizer> make_optimizer(const TrainerOptions& options, torch::nn::Module& module,
                                                        bool cuda = false);

/// Whether make_optimizer would use the fused AdamW kernel.
bool uses_fused_adamw(const TrainerOptions& options, bool cuda);

/// Sets the learning rate of every parameter group.
void set_learning_rate(torch::optim::Optimizer& optimizer, double lr);

}  // namespace stratum
