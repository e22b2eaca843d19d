#pragma once
// Activation checkpointing: run a function without keeping its intermediate activations, and
// recompute them in the backward pass. The random generators are restored for the
// recomputation, so dropout masks are the same as in the forward pass and gradients equal
// those of the plain computation.

#include <torch/types.h>

#include <functional>
#include <vector>

namespace stratum::models {

/// f(x), keeping only x (and the random state) for backward, which recomputes f with gradients
/// and returns them for x and for `parameters` (the tensors f reads that need gradients).
/// Without grad mode it is just f(x).
torch::Tensor checkpointed(const std::function<torch::Tensor(const torch::Tensor&)>& f, const torch::Tensor& x,
                           const std::vector<torch::Tensor>& parameters);

}  // namespace stratum::models
