#pragma once
// The reservoir of one label: decides which records of that label's stream are kept,
// uniformly (Vitter's Algorithm R while filling, Li's Algorithm L skips once full) or by
// weight (Efraimidis-Spirakis A-ExpJ with weights exp(lambda*t), computed in log space).

#include <cstdint>
#include <iosfwd>
#include <vector>

#include "data/record.h"
#include "data/rng.h"

namespace stratum::data {

/// Sampling decisions for one label. It stores the kept records; the caller fills the slot
/// that `offer` returns, so a rejected record is never copied.
class LabelReservoir {
 public:
  /// `weighted` selects A-ExpJ (any weights) over Algorithm L (all weights equal).
  LabelReservoir(uint64_t seed, uint64_t stream, bool weighted);

  /// The next record of this label arrives with weight exp(log_weight) (ignored when uniform).
  /// Returns the slot the caller must fill (a new empty slot at the end while filling, or the
  /// slot of the record it replaces) or -1 when the record is skipped.
  int64_t offer(double log_weight);

  /// Changes the capacity. Shrinking evicts records (uniformly at random, or the lowest
  /// keys when weighted) and returns their slots' former contents in `evicted`.
  void set_capacity(int64_t capacity, std::vector<Record>* evicted = nullptr);

  /// Removes the record in `slot` (byte-cap enforcement); the reservoir stays a valid sample.
  Record remove(int64_t slot);

  /// A uniformly random slot, or for weighted reservoirs the one with the lowest key.
  int64_t eviction_candidate();

  int64_t capacity() const { return capacity_; }
  int64_t size() const { return static_cast<int64_t>(items_.size()); }
  int64_t seen() const { return seen_; }
  bool weighted() const { return weighted_; }

  std::vector<Record>& items() { return items_; }
  const std::vector<Record>& items() const { return items_; }

  /// Writes and restores everything (items, keys, RNG, skip state) so a restored reservoir
  /// makes exactly the decisions the original would have made.
  void save(std::ostream& out) const;
  void load(std::istream& in, const std::string& where);

 private:
  int64_t accept_filling(double log_weight);
  void start_skipping();
  void restore_heap();
  int64_t min_slot() const;

  Rng rng_;
  bool weighted_;
  int64_t capacity_ = 0;
  int64_t seen_ = 0;
  std::vector<Record> items_;

  // Algorithm L: the 1-based arrival count of the next record to accept, and log(W).
  int64_t next_accept_ = 0;
  double log_w_ = 0;

  // A-ExpJ: per slot the key s = log(w) - log(-log(u)) (monotone in u^(1/w), overflow-free),
  // a min-heap of slots by key, and the log of the weight still to skip.
  std::vector<double> keys_;
  std::vector<int64_t> heap_;
  double log_skip_ = 0;
  double log_accumulated_ = 0;
};

}  // namespace stratum::data
