#pragma once
// What a model's layers need from a tensor-parallel group (Megatron-LM, Shoeybi et al. 2019):
// the conjugate identity / all-reduce operators at the boundaries of split layers, and random
// numbers that differ between the ranks where each holds different activations. distributed/
// implements it over a process group; models only see this interface.

#include <torch/types.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

namespace stratum::models {

/// The collectives of one tensor-parallel group, as autograd-aware operations.
class TensorParallelOps {
 public:
  virtual ~TensorParallelOps() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  /// f: identity forward, gradients summed over the group backward. Where a replicated tensor
  /// enters layers whose ranks each compute a part, each part's gradient is only a share.
  virtual torch::Tensor copy_to_group(const torch::Tensor& x) = 0;
  /// g: summed over the group forward, identity backward. Where partial results leave.
  virtual torch::Tensor reduce_from_group(const torch::Tensor& x) = 0;
  /// The elementwise maximum over the group; forward only (a constant for autograd).
  virtual torch::Tensor max_over_group(const torch::Tensor& x) = 0;
  /// The ranks' slices of the last dimension concatenated in rank order (`sizes[r]` wide on
  /// rank r); forward only, for outputs nothing differentiates (evaluation logits).
  virtual torch::Tensor gather_last_dim(const torch::Tensor& x, const std::vector<int64_t>& sizes) = 0;
  /// Runs `f` with the random generator of `device` seeded differently on every rank of the
  /// group (dropout over split attention heads), then restores it, so the ranks' shared stream
  /// stays the same everywhere. The seed follows from that stream's state and `stream`, so a
  /// replay under gradient checkpointing draws the same numbers.
  virtual torch::Tensor with_rank_random(const torch::Device& device, int64_t stream,
                                         const std::function<torch::Tensor()>& f) = 0;
};

/// How a linear layer is split over a tensor-parallel group: by output features (column: every
/// rank computes a slice of the outputs from the whole input) or by input features (row: every
/// rank computes partial outputs from its slice of the input; they are summed).
struct LinearSplit {
  enum class Kind { column, row };
  Kind kind = Kind::column;
  std::shared_ptr<TensorParallelOps> ops;
  int64_t stream = 0;  ///< the layer's own random stream for with_rank_random (its index in the model)

  /// Makes a low-rank hidden state computed from this layer's local input right on every rank
  /// (LoRA's A x): column layers' inputs are replicated, so its gradient is a share (f); row
  /// layers' inputs are slices, so the hidden state is a partial sum (g).
  torch::Tensor join(const torch::Tensor& hidden) const {
    return kind == Kind::column ? ops->copy_to_group(hidden) : ops->reduce_from_group(hidden);
  }
};

}  // namespace stratum::models
