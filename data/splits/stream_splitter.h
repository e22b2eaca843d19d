#pragma once
// Routes a training stream into the three splits: this rank's share only; unseen by label or
// time; validation by content hash; everything else through the stratified reservoirs. It
// also watches the stream for drift and acts on alerts as configured.

#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

#include "data/data_options.h"
#include "data/drift/drift_monitor.h"
#include "data/record.h"
#include "data/sampling/stratified_reservoir.h"
#include "data/split_data.h"

namespace stratum::data {

/// Which split a training-stream record belongs to.
enum class Split { seen, validation, unseen };

/// True when a record with content hash `record_hash` belongs to the validation split: a pure
/// function of the record and the seed, so no record (nor an exact duplicate of it) can land
/// in two splits, and reruns split identically.
bool in_validation(uint64_t record_hash, uint64_t seed, double fraction);

/// Class ids of `data.unseen.labels`, each given by name or by id; an unknown one is a
/// UserError naming the key and listing the known labels.
std::vector<int32_t> resolve_unseen_labels(const DataOptions& options, const std::vector<std::string>& class_names);

/// Which records are held out as unseen, resolved to ids: classes (by: label) or input
/// files, i.e. Provenance::source (by: source).
struct UnseenIds {
  std::vector<int32_t> labels;
  std::vector<uint32_t> sources;
};

/// The split of one record from the options alone.
Split assign_split(const Record& record, const DataOptions& options, const UnseenIds& unseen, uint64_t seed);

/// Consumes one source's training stream.
class StreamSplitter {
 public:
  StreamSplitter(const DataOptions& options, const DataContext& context, UnseenIds unseen);

  /// Offers record number `index` of the stream. Records of other ranks are ignored. Returns
  /// false once `max_records` have been taken (the source may stop reading).
  bool add(int64_t index, const Record& record);

  /// Ends the stream: a final quota plan.
  void finish();

  /// Training-stream records of this rank routed to a split (rejected records never get here).
  int64_t records_accepted() const { return read_; }
  const StratifiedReservoir& reservoir() const { return reservoir_; }
  /// Held-out records: all of them, or with DataContext::held_out_capacity the latest ones
  /// (in ring order, not arrival order).
  const std::vector<Record>& validation() const { return validation_; }
  const std::vector<Record>& unseen() const { return unseen_; }
  const DriftMonitor& drift() const { return drift_; }
  /// The drift events the latest `add` raised (already acted on as data.drift.on_drift says).
  const std::vector<DriftEvent>& raised() const { return raised_; }
  /// Per-label sizes sampled along the stream: at most kMaxSnapshots, evenly spaced (the
  /// interval doubles when they run out), plus the final sizes after `finish`.
  const std::vector<ReservoirSnapshot>& history() const { return history_; }
  static constexpr size_t kMaxSnapshots = 256;

  /// Writes the whole pipeline state: stream position, held-out records, the reservoirs
  /// (contents, keys, random streams, skip counters) and the drift monitor. `load` on a
  /// splitter built with the same options and context continues exactly where it stopped.
  void save(std::ostream& out) const;
  void load(std::istream& in, const std::string& where);

 private:
  const DataOptions& options_;
  DataContext context_;
  UnseenIds unseen_ids_;
  StratifiedReservoir reservoir_;
  DriftMonitor drift_;
  std::vector<Record> validation_, unseen_;
  uint64_t validation_next_ = 0, unseen_next_ = 0;  // held-out rings: the slot overwritten next
  std::vector<DriftEvent> raised_;
  int64_t read_ = 0;
  std::vector<ReservoirSnapshot> history_;
  int64_t snapshot_every_ = 64;

  void snapshot();
  void keep_held_out(std::vector<Record>& kept, uint64_t& next, const Record& record);
};

}  // namespace stratum::data
