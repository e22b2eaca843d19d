#include "distributed/mesh.h"

#include <vector>

#include "core/error.h"

namespace stratum::distributed {

std::unique_ptr<Mesh> Mesh::form(ProcessGroup& world, int tensor_parallel) {
  const int ranks = world.world_size(), rank = world.rank();
  if (tensor_parallel < 1 || ranks % tensor_parallel != 0) {
    throw UserError("distributed.tensor_parallel: " + std::to_string(tensor_parallel) + " does not divide the job's " +
                    std::to_string(ranks) + " ranks (WORLD_SIZE); the job needs tensor_parallel × data-parallel ranks");
  }
  std::unique_ptr<Mesh> mesh(new Mesh(world));
  mesh->tensor_parallel_ = tensor_parallel;
  const int replicas = ranks / tensor_parallel;
  const int replica = rank / tensor_parallel, part = rank % tensor_parallel;
  // Every rank forms its own groups, tensor-parallel first; members meet in the store.
  if (tensor_parallel > 1) {
    std::vector<int> members;
    for (int t = 0; t < tensor_parallel; ++t) members.push_back(replica * tensor_parallel + t);
    mesh->tensor_ = world.subgroup("tensor-" + std::to_string(replica), members);
    mesh->split_ = std::make_unique<TensorParallel>(*mesh->tensor_);
  }
  if (tensor_parallel > 1 && replicas > 1) {
    std::vector<int> members;
    for (int d = 0; d < replicas; ++d) members.push_back(d * tensor_parallel + part);
    mesh->data_ = world.subgroup("data-" + std::to_string(part), members);
  }
  return mesh;
}

ParallelGroups Mesh::groups() {
  ParallelGroups groups;
  groups.world = &world_;
  groups.data = data_ ? data_.get() : tensor_parallel_ == 1 ? &world_ : nullptr;
  groups.tensor = split_.get();
  return groups;
}

std::string Mesh::describe() const {
  const int rank = world_.rank();
  return std::to_string(world_.world_size()) + " ranks: " + std::to_string(data_parallel()) + " data-parallel × " +
         std::to_string(tensor_parallel_) + " tensor-parallel; this rank: replica " +
         std::to_string(rank / tensor_parallel_) + ", part " + std::to_string(rank % tensor_parallel_);
}

}  // namespace stratum::distributed
