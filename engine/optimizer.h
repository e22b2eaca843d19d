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
/// without it for 1-D parameters (biases, norms) and names matching `no_decay`.
std::unique_ptr<torch::optim::Optimizer> make_optimizer(const TrainerOptions& options, torch::nn::Module& module);

/// Sets the learning rate of every parameter group.
void set_learning_rate(torch::optim::Optimizer& optimizer, double lr);

}  // namespace stratum
