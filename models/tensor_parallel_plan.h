#pragma once
// What tensor parallelism may split in a model, declared by the model next to its layers (as
// torchtitan keeps a parallelize plan per model): distributed/ cuts what a plan names and knows
// no model class. The layout is Megatron-LM's: a column-split layer feeds a row-split one, so
// one all-reduce joins each group of layers.

#include <torch/types.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "models/tensor_parallel_ops.h"

namespace stratum::models {

class AdaptableLinearImpl;

/// One linear layer of a split group, cut by output columns or input rows; along that
/// dimension its weight is `blocks` equal blocks split each (3 for a fused q/k/v projection).
struct LinearShardPlan {
  std::string name;  ///< the layer's dotted name in the model ("blocks.0.attn.qkv")
  AdaptableLinearImpl* layer = nullptr;
  LinearSplit::Kind kind = LinearSplit::Kind::column;
  int64_t blocks = 1;
};

/// Layers split together: `units` (attention heads, MLP hidden units) divided evenly over the ranks.
struct ShardGroupPlan {
  std::string units_owner;  ///< "the model's", "the MLP's": whose units, in the error message
  std::string units_name;   ///< "attention heads (model.heads)": what they are and the key that sets them
  int64_t units = 0;
  std::vector<LinearShardPlan> linears;
  std::string refusal;  ///< why this group cannot be split as configured, e.g. "prefix-tuning ..." ("" when it can)
  /// Called once the linears are cut, with this rank's share of the units, the group's operations
  /// and a random stream of its own (attention computes only its heads from then on). May be empty.
  std::function<void(int64_t local_units, std::shared_ptr<TensorParallelOps> ops, int64_t stream)> after_split;
};

/// A vocabulary split by rows over the ranks: a token embedding and what is tied to it.
struct VocabularyShardPlan {
  std::string name;      ///< the (vocabulary, width) parameter's dotted name
  torch::Tensor weight;  ///< that parameter (cut in place)
  /// Called once it is cut, with every rank's number of rows (rank order).
  std::function<void(std::shared_ptr<TensorParallelOps> ops, std::vector<int64_t> sizes)> after_split;
};

/// Everything a model lets tensor parallelism split, in the order the ranks cut it.
struct TensorParallelPlan {
  std::vector<ShardGroupPlan> groups;
  std::vector<VocabularyShardPlan> vocabulary;  ///< none, or one
  std::string description;                      ///< what the groups are, for the log ("2 attention layers and their MLPs")
};

}  // namespace stratum::models
