#include "data/builtin_sources.h"

#include "core/registry.h"
#include "data/sources/idx_source.h"
#include "data/sources/synthetic_source.h"

namespace stratum::data {

void register_builtin_sources(Registry& registry) {
  registry.data_sources.add({"idx", "MNIST-style IDX image folder (train-* and t10k-*, raw or .gz)",
                             &read_idx_source});
  registry.data_sources.add({"synthetic", "drifting Gaussian-class feature stream with injectable corrupt records",
                             &read_synthetic_source});
}

}  // namespace stratum::data
