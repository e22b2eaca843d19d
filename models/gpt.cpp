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

// Hugging Face GPT2LMHeadModel names: transformer.{wte,wpe,h.N.{ln_1,attn.c_attn,attn.c_proj,ln_2,
// mlp.c_fc,mlp.c_proj},ln_f}; its Conv1D layers store weights as (in, out).
Model::ReferenceName GPT::reference_name(const std::string& own_name) const {
  static const std::vector<std::pair<std::string, std::string>> top = {
      {"token_embedding.", "transformer.wte."}, {"position_embedding.", "transformer.wpe."}, {"norm.", "transformer.ln_f."}};
  for (const auto& [from, to] : top) {
    if (own_name.rfind(from, 0) == 0) return {to + own_name.substr(from.size()), false};
  }
  static const std::vector<std::pair<std::string, std::string>> in_block = {
      {"norm1.", "ln_1."}, {"attn.qkv.", "attn.c_attn."}, {"attn.proj.", "attn.c_proj."},
      {"norm2.", "ln_2."}, {"mlp.fc1.", "mlp.c_fc."},     {"mlp.fc2.", "mlp.c_proj."}};
  if (own_name.rfind("blocks.", 0) == 0) {
    const size_t dot = own_name.find('.', 7);
    const std::string index = own_name.substr(7, dot - 7), rest = own_name.substr(dot + 1);
    for (const auto& [from, to] : in_block) {
      if (rest.rfind(from, 0) != 0) continue;
      const std::string tail = rest.substr(from.size());
      const bool linear = from.rfind("norm", 0) != 0;
      return {"transformer.h." + index + "." + to + tail, linear && tail == "weight"};
    }
  }
  return {own_name, false};
}

bool GPT::ignored_in_reference(const std::string& name) const {
  auto ends_with = [&](const std::string& suffix) {
    return name.size() >= suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0;
  };
  return name == "lm_head.weight" || ends_with(".attn.bias") || ends_with(".attn.masked_bias");
}

TensorParallelPlan GPT::tensor_parallel_plan() {
  TensorParallelPlan plan = plan_blocks(blocks, "blocks");
  VocabularyShardPlan vocabulary;
  vocabulary.name = "token_embedding.weight";
  vocabulary.weight = token_embedding->weight;
  vocabulary.after_split = [this](std::shared_ptr<TensorParallelOps> ops, std::vector<int64_t> sizes) {
    split_vocabulary(std::move(ops), std::move(sizes));
  };
  plan.vocabulary.push_back(std::move(vocabulary));
  return plan;
}

void GPT::split_vocabulary(std::shared_ptr<TensorParallelOps> ops, std::vector<int64_t> sizes) {
  STRATUM_CHECK(ops && static_cast<int>(sizes.size()) == ops->size(), "one vocabulary slice per rank");
  vocab_ops_ = std::move(ops);
  vocab_sizes_ = std::move(sizes);
  STRATUM_CHECK(token_embedding->weight.size(0) == vocab_size(), "token_embedding holds this rank's slice");
}

int64_t GPT::vocab_start() const {
  int64_t start = 0;
  for (int r = 0; vocab_ops_ && r < vocab_ops_->rank(); ++r) start += vocab_sizes_[static_cast<size_t>(r)];
  return start;
}

int64_t GPT::vocab_size() const {
  return vocab_ops_ ? vocab_sizes_[static_cast<size_t>(vocab_ops_->rank())] : shape_.vocab_size;
}

torch::Tensor GPT::forward(const data::Batch& batch) {
  const torch::Tensor& tokens = batch.inputs;  // (B, T) int64
  torch::Tensor x;
  if (vocab_ops_) {
    // Each rank looks up the tokens in its slice (zeros elsewhere); the sum is every lookup.
    const torch::Tensor local = tokens - vocab_start();
    const torch::Tensor inside = local.ge(0).logical_and(local.lt(vocab_size()));
    const torch::Tensor rows = token_embedding->forward(local.clamp(0, vocab_size() - 1));
    x = vocab_ops_->reduce_from_group(rows * inside.unsqueeze(-1).to(rows.scalar_type()));
  } else {
    x = token_embedding->forward(tokens);  // (B, T, W)
  }
  // Packed documents (batch.segments) restart positions and attention at each document.
  if (position_embedding) {
    x = x + position_embedding->forward(batch.segments.defined() ? segment_positions(batch.segments)  // + (B, T, W)
                                                                 : torch::arange(tokens.size(1), tokens.options()));  // + (T, W)
  }
  x = torch::dropout(x, shape_.dropout, is_training());
  x = norm->forward(run_blocks(blocks, x, {}, batch.segments));  // (B, T, W)
  // Tied output projection: (B, T, W) x (W, V) -> (B, T, V), or V_r columns on a split vocabulary.
  if (!vocab_ops_) return torch::matmul(x, token_embedding->weight.t());
  const torch::Tensor local = torch::matmul(vocab_ops_->copy_to_group(x), token_embedding->weight.t());
  return is_training() ? local : vocab_ops_->gather_last_dim(local, vocab_sizes_);
}

torch::Tensor GPT::forward_cached(const torch::Tensor& tokens, const torch::Tensor& positions,
                                  const torch::Tensor& key_keep, KeyValueCache& cache) {
  STRATUM_CHECK(!vocab_ops_, "a tensor-parallel split model does not decode");
  torch::Tensor x = token_embedding->forward(tokens);                   // (B, T, W)
  if (position_embedding) x = x + position_embedding->forward(positions);  // + (B, T, W)
  if (cache.layers.empty()) cache.layers.resize(blocks->size());
  STRATUM_CHECK(cache.layers.size() == blocks->size(), "one cache layer per block");
  for (size_t i = 0; i < blocks->size(); ++i) {
    x = (*blocks)[i]->as<TransformerBlock>()->forward_cached(x, positions, key_keep, cache.layers[i]);
  }
  return torch::matmul(norm->forward(x), token_embedding->weight.t());  // (B, T, V), tied output projection
}

}  // namespace stratum::models
