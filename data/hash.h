#pragma once
// Content hashing of records: split decisions and near-duplicate buckets both key on it.

#include <cstddef>
#include <cstdint>

#include "data/rng.h"

namespace stratum::data {

/// 64-bit hash of `size` bytes: FNV-1a, finished with SplitMix64 for a good spread.
inline uint64_t content_hash(const void* data, size_t size) {
  uint64_t h = 1469598103934665603ull;
  const auto* p = static_cast<const unsigned char*>(data);
  for (size_t i = 0; i < size; ++i) h = (h ^ p[i]) * 1099511628211ull;
  return splitmix64(h);
}

}  // namespace stratum::data
