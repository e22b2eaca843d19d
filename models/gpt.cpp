#include "models/gpt.h"

#include <torch/torch.h>

#include "core/error.h"
#include "models/init.h"
#include "models/transformer_block.h"

namespace stratum::models {

TransformerShape gpt_preset(const std::string& size) {
  TransformerShape shape;  // tiny: 2 layers, 64 wide, 4 heads
  shape.gelu_tanh = true;
  shape.norm_eps = 1e-5;
  if (size == "125m" || size == "350m") {
    const bool small = size == "125m";
    shape.layers = small ? 12 : 24;
    shape.width = small ? 768 : 1024;
    shape.heads = small ? 12 : 16;
    shape.mlp_hidden = 4 * shape.width;
    shape.context = 1024;
    shape.vocab_size = 50257;
  } else {
    STRATUM_CHECK(size == "tiny", "unknown gpt size " + size);
  }
  return shape;
}

GPT::GPT(const TransformerShape& shape) : shape_(shape) {
  token_embedding = register_module("token_embedding", torch::nn::Embedding(shape.vocab_size, shape.width));
  if (shape.positions == Positions::learned) {
    position_embedding = register_module("position_embedding", torch::nn::Embedding(shape.context, shape.width));
  }
  blocks = register_module("blocks", make_blocks(shape, /*causal=*/true));
  norm = register_module("norm", make_norm(shape));
  init_gpt2(*this, shape.layers);
}

torch::Tensor GPT::forward(const data::Batch& batch) {
  const torch::Tensor& tokens = batch.inputs;  // (B, T) int64
  torch::Tensor x = token_embedding->forward(tokens);
  if (position_embedding) {
    x = x + position_embedding->forward(torch::arange(tokens.size(1), tokens.options()));
  }
  x = torch::dropout(x, shape_.dropout, is_training());
  x = norm->forward(run_blocks(blocks, x));
  return torch::matmul(x, token_embedding->weight.t());  // tied output projection
}

}  // namespace stratum::models
