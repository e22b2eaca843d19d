#pragma once
// What the trainer and the evaluator need from a multi-process job. distributed/ implements it
// over c10d; core only sees this interface, so it never depends on distributed/.

#include <cstdint>
#include <memory>
#include <string>

#include "core/torch_declarations.h"

namespace stratum {

/// A collective started without waiting for it (the gradient buckets overlap backward this way).
class PendingCollective {
 public:
  virtual ~PendingCollective() = default;
  /// Blocks until the collective is done; throws when it failed or timed out.
  virtual void wait() = 0;
};

/// Averages the gradients of data-parallel replicas while backward runs.
class GradientSynchronizer {
 public:
  virtual ~GradientSynchronizer() = default;
  /// Whether the coming backward passes reduce gradients; false for all but the last
  /// micro-batch of an accumulated step (`no_sync`), whose backward then reduces the sum.
  virtual void set_sync(bool sync) = 0;
  /// Waits for the reductions of the last backward pass and leaves the average over all ranks
  /// in every trainable parameter's gradient. Every rank must call it after the same backward.
  virtual void finish() = 0;
  /// Copies rank 0's buffers to every rank. Buffers such as batch-norm running statistics drift
  /// apart (each rank normalizes its own shard); a sharded evaluation needs one model.
  virtual void share_buffers() = 0;
};

/// Collective operations across the ranks of a job. Every rank must make the same calls in the
/// same order; a rank that does not ends the job after the collective timeout. Tensors may live
/// on the host with every backend (NCCL's are staged through the rank's GPU).
class Collectives {
 public:
  virtual ~Collectives() = default;
  virtual int rank() const = 0;
  virtual int world_size() const = 0;
  /// Sums `tensor` elementwise over all ranks, in place.
  virtual void all_reduce_sum(at::Tensor& tensor) = 0;
  /// Elementwise maximum of `tensor` over all ranks, in place.
  virtual void all_reduce_max(at::Tensor& tensor) = 0;
  /// Starts summing `tensor` in place; the tensor must stay alive until wait() returns.
  virtual std::unique_ptr<PendingCollective> all_reduce_sum_async(at::Tensor& tensor) = 0;
  /// Replaces `tensor` by rank `root`'s.
  virtual void broadcast(at::Tensor& tensor, int root) = 0;
  /// Rank 0's `value` on every rank (through the rendezvous store; `key` names it there).
  virtual std::string share_from_primary(const std::string& key, const std::string& value) = 0;
  /// Copies rank 0's parameters and buffers of `model` to every rank, then returns the
  /// synchronizer that averages its trainable parameters' gradients in buckets of `bucket_bytes`.
  virtual std::unique_ptr<GradientSynchronizer> data_parallel(torch::nn::Module& model, int64_t bucket_bytes) = 0;
};

class TensorParallelism;

/// The process groups of a job laid out as a mesh of tensor_parallel × data-parallel ranks:
/// rank = data_rank × tensor_parallel + tensor_rank, so the ranks that split one model are
/// neighbours (on one node, where the links are fastest).
struct ParallelGroups {
  Collectives* world = nullptr;  ///< every rank of the job
  Collectives* data = nullptr;   ///< the replicas of this rank's part of the model: batches are split and gradients averaged over them
  TensorParallelism* tensor = nullptr;  ///< the ranks one model is split across; null without tensor parallelism
};

}  // namespace stratum
