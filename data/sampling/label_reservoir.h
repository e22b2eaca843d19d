#pragma once
// The reservoir of one label: decides which records of that label's stream are kept,
// uniformly (Vitter's Algorithm R while filling, Li's Algorithm L skips once full) or by
// weight (Efraimidis-Spirakis A-ExpJ with weights exp(lambda*t), computed in log space).
//
// Both are threshold samples: every record carries a random key (uniform: u; weighted:
// u^(1/w)) and the reservoir holds exactly the records whose key beats a threshold that only
// ever tightens. Uniform keys are never stored: given the threshold, the kept keys are
// independent and uniform below it, so the threshold alone carries what the skips and
// evictions need. That is what keeps the sample exact when the capacity shrinks or the byte
// cap evicts: the record with the worst key goes (for uniform keys, a uniformly random slot),
// and the threshold moves to the next worst key instead of starting over.

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
  /// Returns the slot the caller must fill (a new empty slot at the end while below capacity,
  /// or the slot of the record it replaces) or -1 when the record is skipped.
  int64_t offer(double log_weight);

  /// Changes the capacity. Shrinking evicts the records with the worst keys and returns them
  /// in `evicted`: what stays is a sample of the smaller size, exactly as if the capacity had
  /// always been that small. Growing keeps the threshold, so the new room fills at the rate the
  /// label was already sampled at (records discarded earlier cannot come back; see README).
  void set_capacity(int64_t capacity, std::vector<Record>* evicted = nullptr);

  /// Removes the record with the worst key and lowers the capacity by one (byte-cap
  /// enforcement); the reservoir stays a sample of everything its label offered.
  Record evict();

  int64_t capacity() const { return capacity_; }
  int64_t size() const { return static_cast<int64_t>(items_.size()); }
  int64_t seen() const { return seen_; }
  bool weighted() const { return weighted_; }

  std::vector<Record>& items() { return items_; }
  const std::vector<Record>& items() const { return items_; }

  /// Writes and restores everything (items, keys, RNG, threshold, skip state) so a restored
  /// reservoir makes exactly the decisions the original would have made.
  void save(std::ostream& out) const;
  void load(std::istream& in, const std::string& where);

 private:
  int64_t offer_uniform();
  int64_t offer_weighted(double log_weight);
  Record evict_worst();
  void pin_threshold();
  void settle();
  void schedule_next();
  double weighted_threshold() const;
  Record take(int64_t slot);
  void restore_heap();
  int64_t min_slot() const;

  Rng rng_;
  bool weighted_;
  int64_t capacity_ = 0;
  int64_t seen_ = 0;
  std::vector<Record> items_;

  // Uniform: the threshold theta (log) — kept records are exactly those with key u <= theta —
  // the slot of the kept record whose key is theta itself, if one is (theta is then the
  // largest kept key, Algorithm L's W; -1 when none is), and the 1-based arrival count of the
  // next record with u < theta.
  double log_theta_ = 0;
  int64_t pinned_slot_ = -1;
  int64_t next_accept_ = 1;

  // Weighted: per slot the key s = log(w) - log(-log(u)) (monotone in u^(1/w), overflow-free),
  // a min-heap of slots by key, the highest key ever dropped (records at or below it are
  // out), and the log of the weight still to skip.
  std::vector<double> keys_;
  std::vector<int64_t> heap_;
  double floor_key_;
  double log_skip_;
  double log_accumulated_;
};

}  // namespace stratum::data
