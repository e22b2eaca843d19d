#include "models/transformer_block.h"

#include <torch/torch.h>

#include "models/activation_checkpoint.h"

namespace stratum::models {

FeedForward::FeedForward(const TransformerShape& shape) : gelu_tanh_(shape.gelu_tanh) {
  fc1 = register_module("fc1", AdaptableLinear(shape.width, shape.mlp_hidden));
  fc2 = register_module("fc2", AdaptableLinear(shape.mlp_hidden, shape.width));
}

torch::Tensor FeedForward::forward(const torch::Tensor& x) {
  // (B, T, W) -> (B, T, mlp_hidden) -> (B, T, W)
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

torch::Tensor TransformerBlock::forward(const torch::Tensor& x, const torch::Tensor& keep, const torch::Tensor& segments) {
  // x, h and the result: (B, T, W); keep: (B, T) or undefined
  torch::Tensor h = x + torch::dropout(attn->forward(norm1->forward(x), keep, segments), dropout_, is_training());
  return h + torch::dropout(mlp->forward(norm2->forward(h)), dropout_, is_training());
}

void TransformerBlock::plan_tensor_parallelism(const std::string& name, TensorParallelPlan& plan) {
  using Kind = LinearSplit::Kind;
  ShardGroupPlan heads;
  heads.units_owner = "the model's";
  heads.units_name = "attention heads (model.heads)";
  heads.units = attn->heads();
  heads.linears = {{name + ".attn.qkv", attn->qkv.get(), Kind::column, 3}, {name + ".attn.proj", attn->proj.get(), Kind::row, 1}};
  if (attn->has_prefix()) heads.refusal = "prefix-tuning (adapters.prefix) is not split across ranks; use LoRA with tensor parallelism";
  MultiHeadAttention* attention = attn.get();
  heads.after_split = [attention](int64_t local, std::shared_ptr<TensorParallelOps> ops, int64_t stream) {
    attention->split_heads(local, std::move(ops), stream);
  };
  plan.groups.push_back(std::move(heads));

  ShardGroupPlan hidden;
  hidden.units_owner = "the MLP's";
  hidden.units_name = "hidden units (model.mlp_hidden)";
  hidden.units = mlp->fc1->weight.size(0);
  hidden.linears = {{name + ".mlp.fc1", mlp->fc1.get(), Kind::column, 1}, {name + ".mlp.fc2", mlp->fc2.get(), Kind::row, 1}};
  plan.groups.push_back(std::move(hidden));
}

TensorParallelPlan plan_blocks(const torch::nn::ModuleList& blocks, const std::string& name) {
  TensorParallelPlan plan;
  for (size_t i = 0; i < blocks->size(); ++i) {
    (*blocks)[i]->as<TransformerBlock>()->plan_tensor_parallelism(name + "." + std::to_string(i), plan);
  }
  plan.description = std::to_string(blocks->size()) + " attention layers and their MLPs";
  return plan;
}

torch::Tensor TransformerBlock::forward_cached(const torch::Tensor& x, const torch::Tensor& positions,
                                              const torch::Tensor& key_keep, KeyValueCache::Layer& cache) {
  const torch::Tensor h = x + attn->forward_cached(norm1->forward(x), positions, key_keep, cache);  // (B, T, W)
  return h + mlp->forward(norm2->forward(h));
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

torch::Tensor run_blocks(const torch::nn::ModuleList& blocks, torch::Tensor x, const torch::Tensor& keep,
                         const torch::Tensor& segments) {
  for (const auto& module : *blocks) {
    auto* block = module->as<TransformerBlock>();
    if (block->recompute && block->is_training()) {
      // The masks are captured by value: the backward pass runs the lambda after this returns.
      x = checkpointed(
          [block, keep, segments](const torch::Tensor& input) { return block->forward(input, keep, segments); }, x,
          block->forward_parameters());
    } else {
      x = block->forward(x, keep, segments);
    }
  }
  return x;
}

}  // namespace stratum::models
