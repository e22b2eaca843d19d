#include "models/transformer_block.h"

#include <torch/torch.h>

#include "models/activation_checkpoint.h"

namespace stratum::models {

FeedForward::FeedForward(const TransformerShape& shape) : gelu_tanh_(shape.gelu_tanh) {
  fc1 = register_module("fc1", AdaptableLinear(shape.width, shape.mlp_hidden));
  fc2 = register_module("fc2", AdaptableLinear(shape.mlp_hidden, shape.width));
}

torch::Tensor FeedForward::forward(const torch::Tensor& x) {
  return fc2->forward(torch::gelu(fc1->forward(x), gelu_tanh_ ? "tanh" : "none"));
}

torch::nn::LayerNorm make_norm(const TransformerShape& shape) {
  return torch::nn::LayerNorm(torch::nn::LayerNormOptions({shape.width}).eps(shape.norm_eps));
}

TransformerBlock::TransformerBlock(const TransformerShape& shape, bool causal) : dropout_(shape.dropout) {
  norm1 = register_module("norm1", make_norm(shape));
  attn = register_module("attn", std::make_shared<MultiHeadAttention>(shape, causal));
  norm2 = register_module("norm2", make_norm(shape));
  mlp = register_module("mlp", std::make_shared<FeedForward>(shape));
}

torch::Tensor TransformerBlock::forward(const torch::Tensor& x, const torch::Tensor& keep) {
  torch::Tensor h = x + torch::dropout(attn->forward(norm1->forward(x), keep), dropout_, is_training());
  return h + torch::dropout(mlp->forward(norm2->forward(h)), dropout_, is_training());
}

std::vector<torch::Tensor> TransformerBlock::forward_parameters() const {
  std::vector<torch::Tensor> out = parameters();
  for (const torch::Tensor& p : attn->prefix_shared_parameters()) out.push_back(p);
  return out;
}

torch::nn::ModuleList make_blocks(const TransformerShape& shape, bool causal) {
  torch::nn::ModuleList blocks;
  for (int64_t i = 0; i < shape.layers; ++i) blocks->push_back(std::make_shared<TransformerBlock>(shape, causal));
  return blocks;
}

torch::Tensor run_blocks(const torch::nn::ModuleList& blocks, torch::Tensor x, const torch::Tensor& keep) {
  for (const auto& module : *blocks) {
    auto* block = module->as<TransformerBlock>();
    if (block->recompute && block->is_training()) {
      // The mask is captured by value: the backward pass runs the lambda after this returns.
      x = checkpointed([block, keep](const torch::Tensor& input) { return block->forward(input, keep); }, x,
                       block->forward_parameters());
    } else {
      x = block->forward(x, keep);
    }
  }
  return x;
}

}  // namespace stratum::models
