#pragma once
// Which source each training example comes from: a seeded draw that keeps every source's count
// within a few examples of its share at every point of the stream, so the shares hold in every
// window, not only on average.

#include <cstdint>
#include <string>
#include <vector>

#include "data/rng.h"

namespace stratum::data {

/// One source of a mix: its rows [begin, end) of the concatenated seen split and its share.
struct MixComponent {
  std::string name;
  int64_t begin = 0, end = 0;
  double share = 1;
};

/// Picks, for example g, the source whose count lags its share the most (share · (g + 1) −
/// count), each lag jittered by a seeded uniform in [0, 1) so the interleaving is random.
/// Every source's count stays within 2 of share · g; a source with share 0 is never picked.
class MixSchedule {
 public:
  MixSchedule(std::vector<double> shares, uint64_t seed);

  /// The source of the next example.
  size_t next();

  /// Examples drawn so far from each source.
  const std::vector<int64_t>& counts() const { return counts_; }
  int64_t drawn() const { return drawn_; }

 private:
  std::vector<double> shares_;
  std::vector<int64_t> counts_;
  int64_t drawn_ = 0;
  Rng rng_;
};

}  // namespace stratum::data
