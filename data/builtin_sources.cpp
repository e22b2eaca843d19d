#include "data/builtin_sources.h"

#include "core/registry.h"
#include "data/idx_source.h"

namespace stratum::data {

void register_builtin_sources(Registry& registry) {
  registry.data_sources.add({"idx", "MNIST-style IDX image folder (train-* and t10k-*, raw or .gz)",
                             &read_idx_source});
}

}  // namespace stratum::data
