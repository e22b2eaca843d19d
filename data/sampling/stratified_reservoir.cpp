#include "data/sampling/stratified_reservoir.h"

#include <algorithm>
#include <cmath>
#include <istream>
#include <ostream>
#include <string_view>

#include "core/error.h"
#include "data/binary_io.h"
#include "data/hash.h"
#include "data/sampling/quota_plan.h"

namespace stratum::data {
namespace {

constexpr uint64_t kStateMagic = 0x5354525352565232ull;  // "STRSRVR2"
constexpr int32_t kMaxLabelId = 1 << 20;

}  // namespace

StratifiedReservoir::StratifiedReservoir(const ReservoirOptions& options, uint64_t seed)
    : options_(options), seed_(seed), weighted_(options.decay > 0 || options.multi_label == MultiLabel::split) {}

StratifiedReservoir::~StratifiedReservoir() = default;

LabelReservoir& StratifiedReservoir::reservoir_for(int32_t label) {
  STRATUM_CHECK(label >= 0 && label < kMaxLabelId, "label id out of range: " + std::to_string(label));
  if (static_cast<size_t>(label) >= reservoirs_.size()) {
    reservoirs_.resize(static_cast<size_t>(label) + 1);
    if (options_.dedup != Dedup::none) buckets_.resize(reservoirs_.size());
  }
  auto& slot = reservoirs_[static_cast<size_t>(label)];
  if (!slot) {
    // Each label draws from its own stream of the run seed.
    slot = std::make_unique<LabelReservoir>(seed_, static_cast<uint64_t>(label) + 1, weighted_);
    plan(label);
  }
  return *slot;
}

uint64_t StratifiedReservoir::bucket_of(const Record& record) const {
  if (options_.dedup == Dedup::payload) return content_hash(record.payload.data(), record.payload.size());
  std::vector<int64_t> cells(record.features.size());
  for (size_t i = 0; i < cells.size(); ++i) {
    cells[i] = static_cast<int64_t>(std::floor(record.features[i] / options_.dedup_quantum));
  }
  return content_hash(cells.data(), cells.size() * sizeof(int64_t));
}

int StratifiedReservoir::offer(const Record& record) {
  STRATUM_CHECK(!record.labels.empty(), "a record without labels was offered to the sampler");
  ++stats_.offered;
  const bool split = options_.multi_label == MultiLabel::split;
  const size_t targets =
      split ? std::min(record.labels.size(), static_cast<size_t>(options_.max_labels_per_record)) : 1;
  // Weight exp(decay * t), shared equally among the reservoirs a split record enters.
  const double log_weight = options_.decay * record.time - (split ? std::log(static_cast<double>(targets)) : 0.0);
  const bool dedup = options_.dedup != Dedup::none;
  const uint64_t bucket = dedup ? bucket_of(record) : 0;

  int entered = 0;
  for (size_t i = 0; i < targets; ++i) {
    const int32_t label = record.labels[i];
    LabelReservoir& reservoir = reservoir_for(label);
    if (dedup && buckets_[static_cast<size_t>(label)].count(bucket)) {
      ++stats_.duplicates;
      continue;
    }
    // A label that has kept every record it saw and has run out of room is owed more as its
    // stream grows: re-plan now, before it starts sampling (and discarding) too early.
    if (reservoir.size() == reservoir.capacity() && reservoir.capacity() == reservoir.seen() &&
        reservoir.capacity() < label_cap_) {
      plan(label);
    }
    const int64_t held = reservoir.size();
    const int64_t slot = reservoir.offer(log_weight);
    if (slot < 0) continue;
    insert(reservoir, label, slot, slot < held, record, bucket);
    ++entered;
  }
  if (entered) enforce_byte_cap();
  if (record.labels.size() > 1) count_cooccurrence(record);
  if (stats_.offered % options_.rebalance_every == 0) rebalance();
  return entered;
}

void StratifiedReservoir::insert(LabelReservoir& reservoir, int32_t label, int64_t slot, bool replaces,
                                 const Record& record, uint64_t bucket) {
  auto& items = reservoir.items();
  if (replaces) forget(label, items[slot]);
  items[slot] = record;
  ++total_items_;
  total_bytes_ += static_cast<int64_t>(items[slot].bytes());
  if (!buckets_.empty()) buckets_[static_cast<size_t>(label)].insert(bucket);
  ++stats_.entered;
}

void StratifiedReservoir::forget(int32_t label, const Record& record) {
  --total_items_;
  total_bytes_ -= static_cast<int64_t>(record.bytes());
  if (!buckets_.empty()) {
    auto& held = buckets_[static_cast<size_t>(label)];
    const auto it = held.find(bucket_of(record));
    if (it != held.end()) held.erase(it);
  }
}

void StratifiedReservoir::enforce_byte_cap() {
  while (total_bytes_ > options_.max_bytes && total_items_ > 0) {
    // Take from the label holding the most items: the byte cap should not starve small labels.
    int32_t fullest = -1;
    for (size_t l = 0; l < reservoirs_.size(); ++l) {
      if (reservoirs_[l] && reservoirs_[l]->size() > 0 &&
          (fullest < 0 || reservoirs_[l]->size() > reservoirs_[static_cast<size_t>(fullest)]->size())) {
        fullest = static_cast<int32_t>(l);
      }
    }
    const Record removed = reservoirs_[static_cast<size_t>(fullest)]->evict();
    forget(fullest, removed);
    ++stats_.evicted;
  }
}

void StratifiedReservoir::count_cooccurrence(const Record& record) {
  for (size_t i = 0; i < record.labels.size(); ++i) {
    for (size_t j = i + 1; j < record.labels.size(); ++j) {
      const auto key = std::minmax(record.labels[i], record.labels[j]);
      const auto it = cooccurrence_.find(key);
      if (it != cooccurrence_.end()) {
        ++it->second;
      } else if (cooccurrence_.size() < kMaxCooccurrencePairs) {
        cooccurrence_.emplace(key, 1);
      } else {
        ++cooccurrence_overflow_;
      }
    }
  }
}

void StratifiedReservoir::rebalance() { plan(-1); }

void StratifiedReservoir::plan(int32_t pending_label) {
  ++stats_.rebalances;
  const std::vector<int32_t> ids = labels();
  std::vector<int64_t> seen;
  for (int32_t id : ids) seen.push_back(reservoirs_[static_cast<size_t>(id)]->seen() + (id == pending_label ? 1 : 0));
  // The byte cap, at the mean size of the items held, is an item budget too: planning with it
  // keeps the byte cap's own evictions rare.
  int64_t budget = options_.max_items;
  if (total_items_ > 0) {
    const double mean_bytes = static_cast<double>(total_bytes_) / static_cast<double>(total_items_);
    budget = std::min(budget, static_cast<int64_t>(static_cast<double>(options_.max_bytes) / mean_bytes));
  }
  label_cap_ = per_label_cap(options_, budget);
  const std::vector<int64_t> capacity = plan_capacities(seen, options_, budget);
  // Shrink first so the global item cap holds at every moment, then grow.
  for (int pass = 0; pass < 2; ++pass) {
    for (size_t i = 0; i < ids.size(); ++i) {
      LabelReservoir& r = *reservoirs_[static_cast<size_t>(ids[i])];
      const bool shrinking = capacity[i] < r.capacity();
      if (shrinking != (pass == 0)) continue;
      std::vector<Record> evicted;
      r.set_capacity(capacity[i], &evicted);
      for (const Record& e : evicted) forget(ids[i], e);
      stats_.evicted += static_cast<int64_t>(evicted.size());
    }
  }
}

std::vector<int32_t> StratifiedReservoir::labels() const {
  std::vector<int32_t> ids;
  for (size_t l = 0; l < reservoirs_.size(); ++l) {
    if (reservoirs_[l]) ids.push_back(static_cast<int32_t>(l));
  }
  return ids;
}

const LabelReservoir& StratifiedReservoir::reservoir(int32_t label) const {
  STRATUM_CHECK(label >= 0 && static_cast<size_t>(label) < reservoirs_.size() && reservoirs_[label],
                "no reservoir for label " + std::to_string(label));
  return *reservoirs_[static_cast<size_t>(label)];
}

void StratifiedReservoir::save(std::ostream& out) const {
  binary::write_u64(out, kStateMagic);
  for (int64_t v : {stats_.offered, stats_.entered, stats_.duplicates, stats_.evicted, stats_.rebalances, label_cap_}) {
    binary::write_u64(out, static_cast<uint64_t>(v));
  }
  binary::write_u64(out, cooccurrence_.size());
  for (const auto& [pair, count] : cooccurrence_) {
    binary::write_u64(out, static_cast<uint64_t>(pair.first));
    binary::write_u64(out, static_cast<uint64_t>(pair.second));
    binary::write_u64(out, static_cast<uint64_t>(count));
  }
  binary::write_u64(out, static_cast<uint64_t>(cooccurrence_overflow_));
  const std::vector<int32_t> ids = labels();
  binary::write_u64(out, ids.size());
  for (int32_t id : ids) {
    binary::write_u64(out, static_cast<uint64_t>(id));
    reservoirs_[static_cast<size_t>(id)]->save(out);
  }
}

void StratifiedReservoir::load(std::istream& in, const std::string& where) {
  const uint64_t magic = binary::read_u64(in, where);
  if (magic == kStateMagic - 1) {
    throw UserError(where + ": sampler state written by an older Stratum (before reservoirs kept their sampling "
                            "threshold across shrinks); start the run afresh");
  }
  if (magic != kStateMagic) throw UserError(where + ": not a Stratum sampler state");
  for (int64_t* v : {&stats_.offered, &stats_.entered, &stats_.duplicates, &stats_.evicted, &stats_.rebalances,
                     &label_cap_}) {
    *v = static_cast<int64_t>(binary::read_count(in, where, uint64_t{1} << 62));
  }
  cooccurrence_.clear();
  const uint64_t pairs = binary::read_count(in, where, kMaxCooccurrencePairs);
  for (uint64_t i = 0; i < pairs; ++i) {
    const auto a = static_cast<int32_t>(binary::read_u64(in, where));
    const auto b = static_cast<int32_t>(binary::read_u64(in, where));
    cooccurrence_[{a, b}] = static_cast<int64_t>(binary::read_u64(in, where));
  }
  cooccurrence_overflow_ = static_cast<int64_t>(binary::read_u64(in, where));
  reservoirs_.clear();
  buckets_.clear();
  total_items_ = total_bytes_ = 0;
  const uint64_t n = binary::read_count(in, where, kMaxLabelId);
  for (uint64_t i = 0; i < n; ++i) {
    const uint64_t id = binary::read_count(in, where, kMaxLabelId - 1);
    if (id >= reservoirs_.size()) reservoirs_.resize(id + 1);
    if (options_.dedup != Dedup::none) buckets_.resize(reservoirs_.size());
    auto r = std::make_unique<LabelReservoir>(seed_, id + 1, weighted_);
    r->load(in, where);
    for (const Record& item : r->items()) {
      ++total_items_;
      total_bytes_ += static_cast<int64_t>(item.bytes());
      if (!buckets_.empty()) buckets_[id].insert(bucket_of(item));
    }
    reservoirs_[id] = std::move(r);
  }
}

}  // namespace stratum::data
