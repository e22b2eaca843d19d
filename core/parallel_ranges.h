#pragma once
// Splitting a loop over [0, n) into contiguous ranges run on short-lived threads: the data
// pipeline's decode and augmentation work, where each item's result depends only on the item
// (never on which thread ran it).

#include <cstdint>
#include <functional>

namespace stratum {

/// Runs `work(begin, end)` over `threads` contiguous ranges covering [0, n) (on the calling
/// thread when one suffices) and rethrows the first exception any range threw.
void parallel_ranges(int64_t n, int64_t threads, const std::function<void(int64_t begin, int64_t end)>& work);

}  // namespace stratum
