#pragma once
// Multi-head self-attention shared by every transformer model: causal or bidirectional, with
// an optional key-padding mask, rotary positions, and extra prefix keys/values (prefix-tuning).

#include <torch/nn/module.h>
#include <torch/nn/modules/linear.h>

#include <memory>
#include <utility>
#include <vector>

#include "models/adaptable_linear.h"
#include "models/decoder.h"
#include "models/transformer_shape.h"

namespace stratum::models {

/// Supplies learned key/value positions that every sequence may attend to (prefix-tuning).
class AttentionPrefix : public AdapterModule {
 public:
  /// Keys and values, each (batch, heads, P, head_dim).
  virtual std::pair<torch::Tensor, torch::Tensor> keys_values(int64_t batch) = 0;
  /// Parameters keys_values reads that are registered elsewhere (one encoder shared by every
  /// layer): whoever replays a layer's forward pass (gradient checkpointing) needs them too.
  virtual std::vector<torch::Tensor> shared_parameters() const { return {}; }
};

/// softmax(q kᵀ / √d) v in explicit operations; `mask` is undefined or boolean (true = may
/// attend) broadcastable to (B, H, T, S). The reference the fused kernel is checked against.
torch::Tensor attention_math(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                             const torch::Tensor& mask, double dropout_p, bool training);

/// Rotates (B, H, T, D) queries or keys by their positions (RoPE, rotate-half layout): 0 to
/// T - 1, or `positions` (B, T) where given (left-padded rows in decoding).
torch::Tensor apply_rotary(const torch::Tensor& x, const torch::Tensor& positions = {});

/// Each token's position within its document, for (B, T) document numbers `segments` (see
/// data::Batch::segments): positions restart at 0 where the number changes.
torch::Tensor segment_positions(const torch::Tensor& segments);

/// Self-attention with a fused qkv projection ("qkv") and an output projection ("proj").
class MultiHeadAttention : public torch::nn::Module {
 public:
  MultiHeadAttention(const TransformerShape& shape, bool causal);

  /// (B, T, W) -> (B, T, W). `keep` is undefined or (B, T) boolean, true for real tokens:
  /// padding positions are never attended to. `segments` is undefined or (B, T) document
  /// numbers (packed documents): a token attends only within its document, and rotary
  /// positions restart at each one.
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& keep = {}, const torch::Tensor& segments = {});

  /// Causal attention of new positions x (B, T, W) to `cache` and to each other (see
  /// Decoder::forward_cached for `positions` and `key_keep`); appends their keys and values.
  torch::Tensor forward_cached(const torch::Tensor& x, const torch::Tensor& positions, const torch::Tensor& key_keep,
                               KeyValueCache::Layer& cache);

  /// Attaches (or, with nullptr, removes) prefix keys/values; registered as submodule "prefix".
  void set_prefix(std::shared_ptr<AttentionPrefix> prefix);
  /// The prefix's shared parameters (see AttentionPrefix), none without a prefix.
  std::vector<torch::Tensor> prefix_shared_parameters() const {
    return prefix_ ? prefix_->shared_parameters() : std::vector<torch::Tensor>{};
  }

  /// Heads this module computes: all of them, or this rank's share once split.
  int64_t heads() const { return heads_; }
  bool has_prefix() const { return prefix_ != nullptr; }

  /// Computes `local_heads` of the heads from here on (tensor parallelism: qkv is split by
  /// columns and proj by rows elsewhere); dropout over them draws rank-local random numbers
  /// from `stream`.
  void split_heads(int64_t local_heads, std::shared_ptr<TensorParallelOps> ops, int64_t stream);

  /// Forces the explicit-math path even where the fused kernel exists (tests compare both).
  void set_use_fused(bool use) { use_fused_ = use; }

  AdaptableLinear qkv{nullptr}, proj{nullptr};

 private:
  /// q, k and v, each (B, H, T, D), rotated by `positions` (see apply_rotary) where rotary.
  std::vector<torch::Tensor> project_heads(const torch::Tensor& x, const torch::Tensor& positions);
  /// Puts the prefix's keys and values (if any) before `k` and `v`; returns how many.
  int64_t prepend_prefix(torch::Tensor& k, torch::Tensor& v);
  /// The heads' outputs (B, H, T, D) joined and projected to (B, T, W).
  torch::Tensor merge_heads(const torch::Tensor& out);

  int64_t heads_;
  int64_t head_dim_;
  bool causal_;
  bool rotary_;
  double dropout_;
  bool use_fused_;
  std::shared_ptr<AttentionPrefix> prefix_;
  std::shared_ptr<TensorParallelOps> split_ops_;
  int64_t split_stream_ = 0;
};

}  // namespace stratum::models
