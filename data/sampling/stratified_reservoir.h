#pragma once
// Stratified sampling of a labeled stream into bounded memory: one LabelReservoir per label,
// capacities from a deterministic quota plan, global caps in items and bytes that are never
// exceeded, recency decay, multi-label policies and optional near-duplicate suppression.

#include <cstdint>
#include <iosfwd>
#include <map>
#include <memory>
#include <unordered_set>
#include <utility>
#include <vector>

#include "data/data_options.h"
#include "data/record.h"
#include "data/sampling/label_reservoir.h"
#include "data/sampling/sampler_stats.h"

namespace stratum::data {

/// Per-label reservoirs behind one `offer` call. Deterministic for a given seed and stream.
class StratifiedReservoir {
 public:
  StratifiedReservoir(const ReservoirOptions& options, uint64_t seed);
  ~StratifiedReservoir();

  /// Offers one record; it is copied only into the reservoirs that keep it. Returns how many
  /// reservoirs it entered. Records without labels are a caller error.
  int offer(const Record& record);

  /// Recomputes the quota plan now (also done every `rebalance_every` offers, when a new label
  /// appears, and when a label that has kept every record it saw runs out of room); shrinking
  /// quotas evict the records with the worst keys, so each reservoir stays an exact sample.
  void rebalance();

  /// Label ids that have a reservoir, ascending.
  std::vector<int32_t> labels() const;
  const LabelReservoir& reservoir(int32_t label) const;

  int64_t total_items() const { return total_items_; }
  int64_t total_bytes() const { return total_bytes_; }
  const SamplerStats& stats() const { return stats_; }

  /// Pair counts (a < b) of labels seen together on multi-label records; at most
  /// `kMaxCooccurrencePairs` distinct pairs are tracked, later new pairs are counted as overflow.
  const std::map<std::pair<int32_t, int32_t>, int64_t>& cooccurrence() const { return cooccurrence_; }
  int64_t cooccurrence_overflow() const { return cooccurrence_overflow_; }
  static constexpr size_t kMaxCooccurrencePairs = 4096;

  /// Serializes the whole sampler; `load` on a sampler built with the same options restores
  /// it so that it makes exactly the same decisions on the rest of the stream.
  void save(std::ostream& out) const;
  void load(std::istream& in, const std::string& where);

 private:
  LabelReservoir& reservoir_for(int32_t label);
  void plan(int32_t pending_label);
  void insert(LabelReservoir& reservoir, int32_t label, int64_t slot, bool replaces, const Record& record,
              uint64_t bucket);
  void enforce_byte_cap();
  void forget(int32_t label, const Record& record);
  uint64_t bucket_of(const Record& record) const;
  void count_cooccurrence(const Record& record);

  ReservoirOptions options_;
  uint64_t seed_;
  bool weighted_;
  std::vector<std::unique_ptr<LabelReservoir>> reservoirs_;  // index = label id
  std::vector<std::unordered_multiset<uint64_t>> buckets_;  // index = label id (dedup only)
  int64_t total_items_ = 0;
  int64_t total_bytes_ = 0;
  int64_t label_cap_ = 1;  // the per-label cap of the latest plan
  SamplerStats stats_;
  std::map<std::pair<int32_t, int32_t>, int64_t> cooccurrence_;
  int64_t cooccurrence_overflow_ = 0;
};

}  // namespace stratum::data
