#pragma once
// Initialisation as the reference implementations do it, so a Stratum model starts where a
// Hugging Face GPT-2 or a timm ViT would.

#include <torch/nn/module.h>

namespace stratum::models {

/// Fills `tensor` from N(0, std²) truncated to [-2·std, 2·std] (timm's trunc_normal_).
void truncated_normal_(torch::Tensor tensor, double std);

/// GPT-2: linear and embedding weights N(0, 0.02²), biases 0, LayerNorms 1/0, and the two
/// residual output projections (attn.proj, mlp.fc2) N(0, (0.02/√(2·layers))²).
void init_gpt2(torch::nn::Module& model, int64_t layers);

/// timm ViT: linear weights truncated N(0, 0.02²), biases 0, LayerNorms 1/0; the patch
/// convolution keeps LibTorch's default. Position and class embeddings are the model's own.
void init_vit(torch::nn::Module& model);

}  // namespace stratum::models
