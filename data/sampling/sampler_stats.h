#pragma once
// Counters of what the stratified sampler did, reported in manifests and `data inspect`.

#include <cstdint>
#include <vector>

namespace stratum::data {

/// What the sampler did with the stream so far.
struct SamplerStats {
  int64_t offered = 0;      ///< records offered
  int64_t entered = 0;      ///< reservoir insertions (a split record can enter several)
  int64_t duplicates = 0;   ///< offers refused as near-duplicates of a kept item
  int64_t evicted = 0;      ///< items removed to shrink a quota or respect the byte cap
  int64_t rebalances = 0;   ///< quota plans computed
};

/// Per-label reservoir sizes after `record` training-stream records (for the run report).
struct ReservoirSnapshot {
  int64_t record = 0;
  std::vector<int64_t> sizes;  ///< index = label id
};

}  // namespace stratum::data
