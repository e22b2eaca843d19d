#include "models/text_classifier.h"

#include <torch/torch.h>

#include "models/init.h"
#include "models/transformer_block.h"

namespace stratum::models {

TransformerShape text_classifier_preset() {
  TransformerShape shape;
  shape.layers = 2;
  shape.width = 128;
  shape.heads = 4;
  shape.mlp_hidden = 512;
  return shape;
}

TextClassifier::TextClassifier(const TransformerShape& shape, int64_t pad_token)
    : shape_(shape), pad_token_(pad_token) {
  token_embedding = register_module("token_embedding", torch::nn::Embedding(shape.vocab_size, shape.width));
  if (shape.positions == Positions::learned) {
    position_embedding = register_module("position_embedding", torch::nn::Embedding(shape.context, shape.width));
  }
  blocks = register_module("blocks", make_blocks(shape, /*causal=*/false));
  norm = register_module("norm", make_norm(shape));
  head = register_module("head", AdaptableLinear(shape.width, shape.num_classes));
  init_gpt2(*this, shape.layers);
}

torch::Tensor TextClassifier::forward(const data::Batch& batch) { return head->forward(embed(batch)); }

TensorParallelPlan TextClassifier::tensor_parallel_plan() { return plan_blocks(blocks, "blocks"); }

torch::Tensor TextClassifier::embed(const data::Batch& batch) {
  const torch::Tensor& tokens = batch.inputs;  // (B, T) int64
  const torch::Tensor keep = pad_token_ >= 0 ? tokens.ne(pad_token_) : torch::ones_like(tokens, torch::kBool);
  torch::Tensor x = token_embedding->forward(tokens);
  if (position_embedding) x = x + position_embedding->forward(torch::arange(tokens.size(1), tokens.options()));
  x = torch::dropout(x, shape_.dropout, is_training());
  x = norm->forward(run_blocks(blocks, x, keep));
  const torch::Tensor weights = keep.to(x.scalar_type()).unsqueeze(-1);  // (B, T, 1)
  return (x * weights).sum(1) / weights.sum(1).clamp_min(1.0);
}

}  // namespace stratum::models
