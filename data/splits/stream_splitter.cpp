#include "data/splits/stream_splitter.h"

#include <algorithm>

#include "core/error.h"
#include "core/log.h"
#include "core/text.h"
#include "data/binary_io.h"
#include "data/hash.h"

namespace stratum::data {

bool in_validation(uint64_t record_hash, uint64_t seed, double fraction) {
  const uint64_t h = splitmix64(record_hash ^ splitmix64(seed ^ 0x76616C6964ull));  // "valid"
  return static_cast<double>(h >> 11) * 0x1.0p-53 < fraction;
}

std::vector<int32_t> resolve_unseen_labels(const DataOptions& options, const std::vector<std::string>& class_names) {
  std::vector<int32_t> ids;
  if (options.unseen.by != UnseenBy::label) return ids;
  if (options.unseen.labels.empty()) throw UserError("data.unseen.labels: unseen.by is label but no labels are listed");
  for (const std::string& name : options.unseen.labels) {
    int32_t id = -1;
    for (size_t c = 0; c < class_names.size(); ++c) {
      if (class_names[c] == name || std::to_string(c) == name) id = static_cast<int32_t>(c);
    }
    if (id < 0) {
      throw UserError("data.unseen.labels: unknown label \"" + name + "\"" +
                      (nearest(name, class_names).empty() ? "" : " (did you mean " + nearest(name, class_names) + "?)") +
                      "; known: " + join(class_names, ", "));
    }
    ids.push_back(id);
  }
  return ids;
}

Split assign_split(const Record& record, const DataOptions& options, const UnseenIds& unseen, uint64_t seed) {
  if (options.unseen.by == UnseenBy::label) {
    for (int32_t label : record.labels) {
      if (std::find(unseen.labels.begin(), unseen.labels.end(), label) != unseen.labels.end()) return Split::unseen;
    }
  } else if (options.unseen.by == UnseenBy::source) {
    if (std::find(unseen.sources.begin(), unseen.sources.end(), record.origin.source) != unseen.sources.end()) {
      return Split::unseen;
    }
  } else if (options.unseen.by == UnseenBy::time && record.time > options.unseen.after) {
    return Split::unseen;
  }
  uint64_t h = content_hash(record.payload.data(), record.payload.size());
  if (!record.features.empty()) h ^= content_hash(record.features.data(), record.features.size() * sizeof(float));
  return in_validation(h, seed, options.validation_fraction) ? Split::validation : Split::seen;
}

StreamSplitter::StreamSplitter(const DataOptions& options, const DataContext& context, UnseenIds unseen)
    : options_(options),
      context_(context),
      unseen_ids_(std::move(unseen)),
      reservoir_(options.reservoir, context.seed),
      drift_(options.drift) {}

bool StreamSplitter::add(int64_t index, const Record& record) {
  if (options_.max_records > 0 && read_ >= options_.max_records) return false;
  if (index % context_.world_size != context_.rank) return true;
  ++read_;
  raised_ = drift_.observe(record);
  for (const DriftEvent& e : raised_) {
    log::warn("drift: " + e.statistic + " of " + e.subject + " is " + format_number(e.value) + " (threshold " +
              format_number(e.threshold) + ") at record " + std::to_string(e.record));
    if (options_.drift.on_drift == OnDrift::rebalance) {
      reservoir_.rebalance();
      drift_.reset_reference();
    }
  }
  switch (assign_split(record, options_, unseen_ids_, context_.seed)) {
    case Split::unseen: keep_held_out(unseen_, unseen_next_, record); break;
    case Split::validation: keep_held_out(validation_, validation_next_, record); break;
    case Split::seen: reservoir_.offer(record); break;
  }
  if (read_ % snapshot_every_ == 0) snapshot();
  return true;
}

// With a capacity, the held-out records are a ring of the latest ones: `next` is the slot the
// next record overwrites once the ring is full.
void StreamSplitter::keep_held_out(std::vector<Record>& kept, uint64_t& next, const Record& record) {
  const auto capacity = static_cast<uint64_t>(context_.held_out_capacity);
  if (capacity == 0 || kept.size() < capacity) {
    kept.push_back(record);
    return;
  }
  kept[next] = record;
  next = (next + 1) % capacity;
}

void StreamSplitter::snapshot() {
  ReservoirSnapshot s{read_, {}};
  for (int32_t label : reservoir_.labels()) {
    if (static_cast<size_t>(label) >= s.sizes.size()) s.sizes.resize(static_cast<size_t>(label) + 1, 0);
    s.sizes[static_cast<size_t>(label)] = reservoir_.reservoir(label).size();
  }
  if (!history_.empty() && history_.back().record == read_) history_.pop_back();
  history_.push_back(std::move(s));
  if (history_.size() > kMaxSnapshots) {
    // Keep every other snapshot and sample half as often from here on.
    std::vector<ReservoirSnapshot> kept;
    for (size_t i = 1; i < history_.size(); i += 2) kept.push_back(std::move(history_[i]));
    history_ = std::move(kept);
    snapshot_every_ *= 2;
  }
}

void StreamSplitter::finish() {
  reservoir_.rebalance();
  snapshot();
}

namespace {

// Format 3 added each record's slice fields (a state of format 2 cannot be resumed); format 4
// the held-out rings' positions. Unbounded held-out lists (offline runs) still write format 3,
// so an offline checkpoint's state hashes as it did before rings existed.
constexpr uint64_t kSplitterMagic = 0x53545253504C5434ull;  // "STRSPLT4"
constexpr uint64_t kSplitterMagicV3 = 0x53545253504C5433ull;
constexpr uint64_t kSplitterMagicV2 = 0x53545253504C5432ull;

void save_records(std::ostream& out, const std::vector<Record>& records) {
  binary::write_u64(out, records.size());
  for (const Record& r : records) binary::write_record(out, r);
}

std::vector<Record> load_records(std::istream& in, const std::string& where) {
  std::vector<Record> records(binary::read_count(in, where, uint64_t{1} << 32));
  for (Record& r : records) r = binary::read_record(in, where);
  return records;
}

}  // namespace

void StreamSplitter::save(std::ostream& out) const {
  const bool rings = context_.held_out_capacity > 0;
  binary::write_u64(out, rings ? kSplitterMagic : kSplitterMagicV3);
  binary::write_u64(out, static_cast<uint64_t>(read_));
  save_records(out, validation_);
  save_records(out, unseen_);
  reservoir_.save(out);
  drift_.save(out);
  binary::write_u64(out, static_cast<uint64_t>(snapshot_every_));
  binary::write_u64(out, history_.size());
  for (const ReservoirSnapshot& s : history_) {
    binary::write_u64(out, static_cast<uint64_t>(s.record));
    binary::write_u64(out, s.sizes.size());
    for (int64_t size : s.sizes) binary::write_u64(out, static_cast<uint64_t>(size));
  }
  if (!rings) return;
  binary::write_u64(out, validation_next_);
  binary::write_u64(out, unseen_next_);
}

void StreamSplitter::load(std::istream& in, const std::string& where) {
  const uint64_t magic = binary::read_u64(in, where);
  if (magic == kSplitterMagicV2) {
    throw UserError(where + ": a data-pipeline state of an earlier Stratum (format 2, before records kept slice "
                            "fields); start the run afresh");
  }
  if (magic != kSplitterMagic && magic != kSplitterMagicV3) throw UserError(where + ": not a Stratum data-pipeline state");
  read_ = static_cast<int64_t>(binary::read_u64(in, where));
  validation_ = load_records(in, where);
  unseen_ = load_records(in, where);
  reservoir_.load(in, where);
  drift_.load(in, where);
  snapshot_every_ = static_cast<int64_t>(binary::read_u64(in, where));
  if (snapshot_every_ <= 0) throw UserError(where + ": corrupt data-pipeline state (snapshot interval)");
  history_.assign(binary::read_count(in, where, kMaxSnapshots + 1), {});
  for (ReservoirSnapshot& s : history_) {
    s.record = static_cast<int64_t>(binary::read_u64(in, where));
    s.sizes.resize(binary::read_count(in, where, uint64_t{1} << 31));
    for (int64_t& size : s.sizes) size = static_cast<int64_t>(binary::read_u64(in, where));
  }
  validation_next_ = unseen_next_ = 0;
  if (magic == kSplitterMagic) {
    validation_next_ = binary::read_u64(in, where);
    unseen_next_ = binary::read_u64(in, where);
    if ((validation_next_ > 0 && validation_next_ >= validation_.size()) || (unseen_next_ > 0 && unseen_next_ >= unseen_.size())) {
      throw UserError(where + ": corrupt data-pipeline state (held-out ring position)");
    }
  }
}

}  // namespace stratum::data
