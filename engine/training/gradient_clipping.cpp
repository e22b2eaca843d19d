#include "engine/training/gradient_clipping.h"

#include <torch/torch.h>

namespace stratum::training {

torch::Tensor clip_gradient_norm(const std::vector<torch::Tensor>& params, double max_norm) {
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> grads, norms;
  for (const torch::Tensor& p : params) {
    if (!p.grad().defined()) continue;
    grads.push_back(p.grad());
    norms.push_back(p.grad().norm(2));
  }
  if (grads.empty()) return torch::zeros({});
  const torch::Tensor total = norms.size() == 1 ? norms[0] : torch::stack(norms).norm(2);
  // Multiplying by a factor clamped at 1 instead of branching on it keeps the host from waiting.
  const torch::Tensor factor = (max_norm / (total + 1e-6)).clamp_max(1.0);
  for (torch::Tensor& g : grads) g.mul_(factor);
  return total;
}

}  // namespace stratum::training
