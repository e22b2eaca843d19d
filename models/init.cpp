#include "models/init.h"

#include <torch/torch.h>

#include <cmath>

namespace stratum::models {
namespace {

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// LayerNorms to identity and biases of linear layers to zero: the same in both references.
void reset_norms_and_biases(torch::nn::Module& model) {
  for (auto& module : model.modules(/*include_self=*/false)) {
    if (auto* norm = module->as<torch::nn::LayerNorm>()) {
      torch::nn::init::ones_(norm->weight);
      torch::nn::init::zeros_(norm->bias);
    } else if (auto* linear = module->as<torch::nn::Linear>()) {
      if (linear->bias.defined()) torch::nn::init::zeros_(linear->bias);
    }
  }
}

}  // namespace

void truncated_normal_(torch::Tensor tensor, double std) {
  torch::NoGradGuard no_grad;
  // Inverse-CDF sampling between the CDF values of ±2 standard deviations.
  const double bound = std::erf(2.0 / std::sqrt(2.0));
  tensor.uniform_(-bound, bound).erfinv_().mul_(std * std::sqrt(2.0)).clamp_(-2.0 * std, 2.0 * std);
}

void init_gpt2(torch::nn::Module& model, int64_t layers) {
  torch::NoGradGuard no_grad;
  reset_norms_and_biases(model);
  const double residual_std = 0.02 / std::sqrt(2.0 * static_cast<double>(layers));
  for (auto& item : model.named_modules("", /*include_self=*/false)) {
    if (auto* linear = item.value()->as<torch::nn::Linear>()) {
      const bool residual = ends_with(item.key(), "attn.proj") || ends_with(item.key(), "mlp.fc2");
      torch::nn::init::normal_(linear->weight, 0.0, residual ? residual_std : 0.02);
    } else if (auto* embedding = item.value()->as<torch::nn::Embedding>()) {
      torch::nn::init::normal_(embedding->weight, 0.0, 0.02);
    }
  }
}

void init_vit(torch::nn::Module& model) {
  torch::NoGradGuard no_grad;
  reset_norms_and_biases(model);
  for (auto& module : model.modules(/*include_self=*/false)) {
    if (auto* linear = module->as<torch::nn::Linear>()) truncated_normal_(linear->weight, 0.02);
  }
}

}  // namespace stratum::models
