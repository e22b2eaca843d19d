#pragma once
// The c10d process group of a multi-process job: rendezvous through a TCPStore at
// MASTER_ADDR:MASTER_PORT, then Gloo (CPU tensors) or NCCL (CUDA tensors) for the collectives.

#include <memory>
#include <string>
#include <vector>

#include "distributed/collectives.h"
#include "distributed/distributed_options.h"
#include "distributed/world.h"

namespace stratum::distributed {

/// How to form the process group.
struct ProcessGroupOptions {
  Backend backend = Backend::automatic;  ///< automatic: NCCL for CUDA tensors when available, else Gloo
  bool cuda = false;             ///< the job's tensors live on CUDA device LOCAL_RANK
  double init_timeout_s = 300;   ///< rendezvous: every rank must join within this
  double collective_timeout_s = 600;  ///< a collective that takes longer fails the job
};

/// The backend `options` resolves to ("gloo" or "nccl"); a UserError naming
/// `distributed.backend` when this build or machine cannot provide it.
std::string resolve_backend(const ProcessGroupOptions& options);

/// All ranks of the job as one c10d process group, or a subgroup of them.
class ProcessGroup : public Collectives {
 public:
  /// Meets the other ranks. Rank 0 hosts the store unless an agent (torchrun) already does.
  /// A port already in use, a store that cannot be reached or ranks missing after
  /// `init_timeout_s` are UserErrors naming MASTER_ADDR / MASTER_PORT.
  static std::unique_ptr<ProcessGroup> connect(const WorldInfo& world, const ProcessGroupOptions& options);
  ~ProcessGroup() override;

  const std::string& backend() const;

  /// A process group of the world ranks `members` (this rank among them), named `name` (its
  /// keys live under it in the job's store). Only the members call it, all with the same
  /// arguments; rank() and world_size() are then this process's position and the group's size.
  std::unique_ptr<ProcessGroup> subgroup(const std::string& name, const std::vector<int>& members);

  int rank() const override;
  int world_size() const override;
  void all_reduce_sum(at::Tensor& tensor) override;
  void all_reduce_max(at::Tensor& tensor) override;
  std::unique_ptr<PendingCollective> all_reduce_sum_async(at::Tensor& tensor) override;
  void broadcast(at::Tensor& tensor, int root) override;
  std::string share_from_primary(const std::string& key, const std::string& value) override;
  std::unique_ptr<GradientSynchronizer> data_parallel(torch::nn::Module& model, int64_t bucket_bytes) override;

  /// Waits until every rank has arrived here.
  void barrier();

 private:
  struct Impl;
  explicit ProcessGroup(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace stratum::distributed
