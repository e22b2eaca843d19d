#pragma once
// What a run will hold in memory, estimated from the config and the data's shape before
// anything large is allocated, so an absurd size is refused with the figure it would need
// instead of exhausting the machine.

#include <cstdint>

#include "engine/config.h"

namespace stratum {

namespace data {
struct DataSpec;
}  // namespace data

class Registry;

/// Bytes of host memory one training process needs for its model (weights, and for trainable
/// weights their gradients and optimizer state) and its prefetched batches. `parameters` < 0:
/// unknown (a plugin model that does not say), and only the batches count.
struct MemoryPlan {
  int64_t parameters = -1;
  double model_bytes = 0;
  double batch_bytes = 0;  ///< the loader's prefetch queue and the batch being used
  double total() const { return model_bytes + batch_bytes; }
};

/// The plan for `config` on data shaped as `spec`.
MemoryPlan plan_memory(const RunConfig& config, const Registry& registry, const data::DataSpec& spec);

/// Throws UserError naming the config key when the plan exceeds `available` bytes (0: unknown,
/// nothing is refused).
void check_memory_plan(const RunConfig& config, const MemoryPlan& plan, uint64_t available);

}  // namespace stratum
