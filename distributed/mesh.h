#pragma once
// A job's process groups as a mesh of tensor_parallel × data-parallel ranks (core's
// ParallelGroups): rank = data_rank × tensor_parallel + tensor_rank.

#include <memory>
#include <string>

#include "distributed/collectives.h"
#include "distributed/process_group.h"
#include "distributed/tensor_parallel.h"

namespace stratum::distributed {

/// The whole job's group and the subgroups this rank belongs to.
class Mesh {
 public:
  /// Forms this rank's tensor-parallel and data-parallel subgroups of `world`. A UserError
  /// naming distributed.tensor_parallel when it does not divide the job's ranks.
  /// `world` must outlive the mesh.
  static std::unique_ptr<Mesh> form(ProcessGroup& world, int tensor_parallel);

  /// The groups for the trainer (data: null when there is one replica; tensor: null when T = 1).
  ParallelGroups groups();
  ProcessGroup& world() { return world_; }
  int tensor_parallel() const { return tensor_parallel_; }
  int data_parallel() const { return world_.world_size() / tensor_parallel_; }
  /// "2 ranks: 1 data-parallel × 2 tensor-parallel; this rank: replica 0, part 1".
  std::string describe() const;

 private:
  explicit Mesh(ProcessGroup& world) : world_(world) {}
  ProcessGroup& world_;
  int tensor_parallel_ = 1;
  std::unique_ptr<ProcessGroup> data_, tensor_;
  std::unique_ptr<TensorParallel> split_;
};

}  // namespace stratum::distributed
