#pragma once
// Clipping the global gradient norm without waiting for the device: the norm stays a tensor,
// read on the host only when a step is logged.

#include <torch/types.h>

#include <vector>

namespace stratum::training {

/// Scales the gradients of `params` so their global L2 norm is at most `max_norm` (as
/// torch::nn::utils::clip_grad_norm_ does, with the same 1e-6) and returns the norm before
/// clipping as a 0-dim tensor on the gradients' device (zeros when no parameter has a gradient).
torch::Tensor clip_gradient_norm(const std::vector<torch::Tensor>& params, double max_norm);

}  // namespace stratum::training
