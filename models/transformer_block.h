#pragma once
// The pre-LayerNorm residual block every transformer model stacks, and its MLP.

#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>

#include <memory>

#include "models/adaptable_linear.h"
#include "models/attention.h"
#include "models/tensor_parallel_plan.h"
#include "models/transformer_shape.h"

namespace stratum::models {

/// fc1 -> GELU -> fc2 (timm's names; GPT-2's c_fc / c_proj map onto them on import and export).
class FeedForward : public torch::nn::Module {
 public:
  explicit FeedForward(const TransformerShape& shape);
  torch::Tensor forward(const torch::Tensor& x);

  AdaptableLinear fc1{nullptr}, fc2{nullptr};

 private:
  bool gelu_tanh_;
};

/// x + attn(norm1(x)), then + mlp(norm2(x)), dropout on both residual branches.
class TransformerBlock : public torch::nn::Module {
 public:
  TransformerBlock(const TransformerShape& shape, bool causal);
  /// `keep` and `segments`: see MultiHeadAttention::forward.
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& keep = {}, const torch::Tensor& segments = {});
  /// The block over new positions with its attention's key/value cache (see Decoder).
  torch::Tensor forward_cached(const torch::Tensor& x, const torch::Tensor& positions, const torch::Tensor& key_keep,
                               KeyValueCache::Layer& cache);
  /// Every parameter forward reads: the block's own and those an attention prefix shares.
  std::vector<torch::Tensor> forward_parameters() const;

  /// Adds the block's two split groups to `plan`: attention by heads (qkv by columns in three
  /// blocks, proj by rows) and the MLP by hidden units (fc1 by columns, fc2 by rows).
  void plan_tensor_parallelism(const std::string& name, TensorParallelPlan& plan);

  torch::nn::LayerNorm norm1{nullptr}, norm2{nullptr};
  std::shared_ptr<MultiHeadAttention> attn;
  std::shared_ptr<FeedForward> mlp;

  /// When set (by the gradient-checkpointing transform), training recomputes this block's
  /// activations in the backward pass instead of keeping them.
  bool recompute = false;

 private:
  double dropout_;
};

/// shape.layers blocks, to be registered as "blocks" (so parameters read blocks.N.attn.qkv...).
torch::nn::ModuleList make_blocks(const TransformerShape& shape, bool causal);

/// The tensor-parallel plan of the blocks registered as `name` ("blocks").
TensorParallelPlan plan_blocks(const torch::nn::ModuleList& blocks, const std::string& name);

/// Runs `blocks` in order (`keep` and `segments`: see MultiHeadAttention::forward).
torch::Tensor run_blocks(const torch::nn::ModuleList& blocks, torch::Tensor x, const torch::Tensor& keep = {},
                         const torch::Tensor& segments = {});

/// A LayerNorm of the shape's width and epsilon.
torch::nn::LayerNorm make_norm(const TransformerShape& shape);

}  // namespace stratum::models
