#pragma once
// Tensor (model) parallelism, Megatron-LM style: each transformer block's attention heads and
// MLP hidden units are split across the ranks of a group (qkv and fc1 by output columns, proj
// and fc2 by input rows, so one all-reduce per sublayer joins them), and a GPT's vocabulary —
// its token embedding and tied output projection — by rows, with a vocabulary-parallel loss.
// A model is built whole on every rank and then cut, so a split model starts exactly where the
// unsplit one does; checkpoints are gathered whole again.

#include <memory>
#include <string>
#include <unordered_set>
#include <vector>

#include "distributed/collectives.h"
#include "distributed/tensor_parallelism.h"
#include "models/tensor_parallel_ops.h"

namespace stratum::distributed {

/// Where a split parameter's local tensor lies in the whole one. Along `dim` the whole tensor
/// is `blocks` equal blocks (3 for a fused q/k/v weight: q, k and v each split by heads); in
/// each block rank r holds `sizes[r]` entries after those of ranks < r.
struct ShardLayout {
  int64_t dim = 0;
  int64_t blocks = 1;
  std::vector<int64_t> sizes;  ///< per rank, within one block

  /// Where rank `rank`'s entries begin within each block.
  int64_t start(int rank) const;
  /// The whole tensor's extent along `dim`.
  int64_t whole_size() const;
  /// Rank `rank`'s part of `whole`.
  at::Tensor take(const at::Tensor& whole, int rank) const;
  /// The whole tensor on every rank of `group`, from each rank's `local` part.
  at::Tensor gather(Collectives& group, const at::Tensor& local) const;
};

/// `total` split into `parts` sizes differing by at most one, larger ones first.
std::vector<int64_t> even_split(int64_t total, int parts);

/// The models::TensorParallelOps of a process group (f and g as autograd functions).
std::shared_ptr<models::TensorParallelOps> tensor_parallel_ops(Collectives& group);

/// Splits models over one tensor-parallel group and remembers how, for the trainer.
class TensorParallel : public TensorParallelism {
 public:
  explicit TensorParallel(Collectives& group);

  Collectives& group() override { return group_; }
  std::string split(models::Model& model) override;
  at::Tensor next_token_loss(const at::Tensor& logits, const at::Tensor& tokens, int64_t pad_token) override;
  double clip_gradient_norm(torch::nn::Module& model, double max_norm) override;
  void gather_whole(torch::optim::Optimizer* optimizer) override;
  void restore_split() override;
  void split_optimizer_state(torch::optim::Optimizer& optimizer) override;
  std::vector<at::Tensor> unsplit_parameters(const torch::nn::Module& model) const override;

  /// The split parameters with their layouts (tests gather gradients through them).
  struct SplitParameter {
    std::string name;
    at::Tensor parameter;
    ShardLayout layout;
  };
  const std::vector<SplitParameter>& split_parameters() const { return splits_; }

 private:
  void cut(const std::string& name, at::Tensor& parameter, ShardLayout layout);

  Collectives& group_;
  std::shared_ptr<models::TensorParallelOps> ops_;
  std::vector<SplitParameter> splits_;
  std::unordered_set<const void*> split_impls_;  ///< the split parameters' TensorImpls, for lookups
  bool vocabulary_split_ = false;            ///< whether the plan split a vocabulary (the loss is then vocabulary-parallel)
  int64_t vocab_start_ = 0;                  ///< the first token id of this rank's vocabulary slice
  std::vector<at::Tensor> held_;             ///< local tensors while gather_whole is in effect
  torch::optim::Optimizer* held_optimizer_ = nullptr;
};

}  // namespace stratum::distributed
