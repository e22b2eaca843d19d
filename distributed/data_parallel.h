#pragma once
// Data parallelism: every rank holds the whole model, and the gradients of each backward pass
// are averaged across ranks in buckets that are reduced while backward is still running.

#include <cstdint>
#include <memory>
#include <vector>

#include "distributed/collectives.h"

namespace torch::nn {
class Module;
}

namespace stratum::distributed {

/// Copies rank 0's parameters (with `parameters`) and buffers of `model` to every rank.
void broadcast_module(Collectives& collectives, torch::nn::Module& model, bool parameters = true);

/// Bucketed, overlapped gradient averaging (what DDP's reducer does). Trainable parameters go
/// into buckets of about `bucket_bytes` in reverse registration order, the order backward
/// produces their gradients; a hook after each parameter's gradient accumulation marks it
/// ready, and a bucket whose parameters are all ready starts its all-reduce at once. Buckets
/// start in the same order on every rank, as c10d requires.
class BucketedGradientSync : public GradientSynchronizer {
 public:
  BucketedGradientSync(Collectives& collectives, torch::nn::Module& model, int64_t bucket_bytes);
  ~BucketedGradientSync() override;
  BucketedGradientSync(const BucketedGradientSync&) = delete;
  BucketedGradientSync& operator=(const BucketedGradientSync&) = delete;

  void set_sync(bool sync) override;
  void finish() override;
  void share_buffers() override;

  /// Parameter counts per bucket, in launch order (for logs and tests).
  std::vector<int64_t> bucket_sizes() const;
  /// Buckets whose all-reduce started from a gradient hook, i.e. during backward, in the last
  /// synchronised pass (the rest started in finish()).
  int64_t buckets_started_in_backward() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace stratum::distributed
