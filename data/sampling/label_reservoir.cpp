#include "data/sampling/label_reservoir.h"

#include <algorithm>
#include <cmath>
#include <istream>
#include <limits>
#include <ostream>

#include "core/error.h"
#include "data/binary_io.h"

namespace stratum::data {
namespace {

constexpr double kNegInf = -std::numeric_limits<double>::infinity();
constexpr int64_t kFarAway = int64_t{1} << 62;

double log_add_exp(double a, double b) {
  if (a == kNegInf) return b;
  if (b == kNegInf) return a;
  return a > b ? a + std::log1p(std::exp(b - a)) : b + std::log1p(std::exp(a - b));
}

}  // namespace

LabelReservoir::LabelReservoir(uint64_t seed, uint64_t stream, bool weighted)
    : rng_(seed, stream), weighted_(weighted), floor_key_(kNegInf), log_skip_(kNegInf), log_accumulated_(kNegInf) {}

int64_t LabelReservoir::min_slot() const { return heap_.front(); }

void LabelReservoir::restore_heap() {
  heap_.resize(items_.size());
  for (size_t i = 0; i < heap_.size(); ++i) heap_[i] = static_cast<int64_t>(i);
  std::make_heap(heap_.begin(), heap_.end(), [this](int64_t a, int64_t b) { return keys_[a] > keys_[b]; });
}

void LabelReservoir::pin_threshold() {
  // The largest of size() independent uniform keys below theta is theta * u^(1/size()), and it
  // belongs to any of them with equal chance.
  log_theta_ += std::log(rng_.uniform()) / static_cast<double>(size());
  pinned_slot_ = static_cast<int64_t>(rng_.below(items_.size()));
}

double LabelReservoir::weighted_threshold() const {
  return size() == capacity_ && size() > 0 ? keys_[static_cast<size_t>(min_slot())] : floor_key_;
}

void LabelReservoir::schedule_next() {
  if (weighted_) {
    // A-ExpJ: skip records until their summed weight passes X = log(r) / log(T), T the threshold
    // as u^(1/w); exponential jumps are memoryless, so redrawing after any change is exact.
    log_skip_ = std::log(-std::log(rng_.uniform())) + weighted_threshold();
    log_accumulated_ = kNegInf;
    return;
  }
  if (capacity_ == 0) {
    next_accept_ = seen_ + kFarAway;
  } else if (log_theta_ >= 0) {
    next_accept_ = seen_ + 1;
  } else {
    // Records with a key below theta are geometric with success probability theta.
    const double gap = std::floor(std::log(rng_.uniform()) / std::log1p(-std::exp(log_theta_)));
    next_accept_ = seen_ + static_cast<int64_t>(std::min<double>(gap, kFarAway)) + 1;
  }
}

int64_t LabelReservoir::offer(double log_weight) {
  ++seen_;
  if (capacity_ == 0) return -1;
  return weighted_ ? offer_weighted(log_weight) : offer_uniform();
}

int64_t LabelReservoir::offer_uniform() {
  if (seen_ < next_accept_) return -1;
  // This record's key is uniform below theta.
  int64_t slot;
  if (size() < capacity_) {
    slot = size();
    items_.emplace_back();
    if (size() == capacity_ && pinned_slot_ < 0) pin_threshold();
  } else {
    // Algorithm L: it replaces the record with the largest key, and W becomes the largest of
    // the k keys now below the old W.
    slot = pinned_slot_;
    pin_threshold();
  }
  schedule_next();
  return slot;
}

int64_t LabelReservoir::offer_weighted(double log_weight) {
  log_accumulated_ = log_add_exp(log_accumulated_, log_weight);
  if (log_accumulated_ < log_skip_) return -1;
  // This record's key is drawn from u^(1/w) conditioned on beating the threshold T: with
  // a = w / exp(s_T), v = -log(u) is exponential truncated to (0, a).
  const double log_a = log_weight - weighted_threshold();
  const double u = rng_.uniform();
  const double log_v = log_a < -30 ? std::log(u) + log_a  // v = u * a to 1e-13 for tiny a
                                   : std::log(-std::log1p(-u * -std::expm1(-std::exp(log_a))));
  const double key = log_weight - log_v;
  const auto greater = [this](int64_t a, int64_t b) { return keys_[a] > keys_[b]; };
  int64_t slot;
  if (size() < capacity_) {
    slot = size();
    items_.emplace_back();
    keys_.push_back(key);
    heap_.push_back(slot);
  } else {
    std::pop_heap(heap_.begin(), heap_.end(), greater);
    slot = heap_.back();
    floor_key_ = std::max(floor_key_, keys_[static_cast<size_t>(slot)]);
    keys_[static_cast<size_t>(slot)] = key;
  }
  std::push_heap(heap_.begin(), heap_.end(), greater);
  schedule_next();
  return slot;
}

Record LabelReservoir::take(int64_t slot) {
  const auto i = static_cast<size_t>(slot), last = items_.size() - 1;
  Record removed = std::move(items_[i]);
  if (i != last) {
    items_[i] = std::move(items_[last]);
    if (weighted_) keys_[i] = keys_[last];
    if (pinned_slot_ == static_cast<int64_t>(last)) pinned_slot_ = slot;
  }
  items_.pop_back();
  if (weighted_) {
    keys_.pop_back();
    restore_heap();
  }
  return removed;
}

Record LabelReservoir::evict_worst() {
  STRATUM_CHECK(!items_.empty(), "eviction from an empty reservoir");
  if (weighted_) {
    const int64_t slot = min_slot();
    floor_key_ = std::max(floor_key_, keys_[static_cast<size_t>(slot)]);
    return take(slot);
  }
  // Once the record with the largest key is gone, the others are independent and uniform
  // below theta (its key), and none sits on it.
  if (pinned_slot_ < 0) pin_threshold();
  const int64_t slot = pinned_slot_;
  pinned_slot_ = -1;
  return take(slot);
}

void LabelReservoir::settle() {
  if (!weighted_ && size() == capacity_ && size() > 0 && pinned_slot_ < 0) pin_threshold();
  schedule_next();
}

Record LabelReservoir::evict() {
  Record removed = evict_worst();
  capacity_ = size();
  settle();
  return removed;
}

void LabelReservoir::set_capacity(int64_t capacity, std::vector<Record>* evicted) {
  STRATUM_CHECK(capacity >= 0, "negative reservoir capacity");
  if (capacity == capacity_) return;
  // Leaving a full reservoir: every record skipped so far had a key below the smallest kept
  // one, so that key is where the room above it starts filling.
  if (weighted_ && size() == capacity_ && size() > 0) floor_key_ = std::max(floor_key_, keys_[static_cast<size_t>(min_slot())]);
  while (size() > capacity) {
    Record r = evict_worst();
    if (evicted) evicted->push_back(std::move(r));
  }
  if (size() == seen_ && capacity > size()) {
    // Nothing was ever discarded: every record is held, so the threshold admits everything.
    log_theta_ = 0;
    pinned_slot_ = -1;
    floor_key_ = kNegInf;
  } else if (!weighted_ && size() == 0 && capacity > 0 && seen_ > 0) {
    // Nothing kept to stay consistent with (a reservoir emptied by the byte cap or a zero
    // quota): new records enter at the rate `capacity` would have sampled the label at.
    log_theta_ = std::min(0.0, std::log(static_cast<double>(capacity)) - std::log(static_cast<double>(seen_)));
  }
  capacity_ = capacity;
  settle();
}

void LabelReservoir::save(std::ostream& out) const {
  for (uint64_t s : rng_.state) binary::write_u64(out, s);
  binary::write_u64(out, weighted_);
  binary::write_u64(out, static_cast<uint64_t>(capacity_));
  binary::write_u64(out, static_cast<uint64_t>(seen_));
  binary::write_u64(out, static_cast<uint64_t>(next_accept_));
  binary::write_f64(out, log_theta_);
  binary::write_u64(out, static_cast<uint64_t>(pinned_slot_ + 1));
  binary::write_f64(out, floor_key_);
  binary::write_f64(out, log_skip_);
  binary::write_f64(out, log_accumulated_);
  binary::write_u64(out, items_.size());
  for (size_t i = 0; i < items_.size(); ++i) {
    binary::write_record(out, items_[i]);
    if (weighted_) binary::write_f64(out, keys_[i]);
  }
}

void LabelReservoir::load(std::istream& in, const std::string& where) {
  for (uint64_t& s : rng_.state) s = binary::read_u64(in, where);
  if ((binary::read_u64(in, where) != 0) != weighted_) {
    throw UserError(where + ": sampler state was saved with a different sampling mode (decay or multi-label policy)");
  }
  capacity_ = static_cast<int64_t>(binary::read_count(in, where, uint64_t{1} << 40));
  seen_ = static_cast<int64_t>(binary::read_count(in, where, uint64_t{1} << 62));
  next_accept_ = static_cast<int64_t>(binary::read_count(in, where, uint64_t{1} << 63));
  log_theta_ = binary::read_f64(in, where);
  pinned_slot_ = static_cast<int64_t>(binary::read_count(in, where, static_cast<uint64_t>(capacity_))) - 1;
  floor_key_ = binary::read_f64(in, where);
  log_skip_ = binary::read_f64(in, where);
  log_accumulated_ = binary::read_f64(in, where);
  if (std::isnan(log_theta_) || log_theta_ > 0 || std::isnan(floor_key_) || std::isnan(log_skip_) ||
      std::isnan(log_accumulated_)) {
    throw UserError(where + ": corrupt sampler state (threshold)");
  }
  const uint64_t n = binary::read_count(in, where, static_cast<uint64_t>(capacity_));
  items_.clear();
  keys_.clear();
  for (uint64_t i = 0; i < n; ++i) {
    items_.push_back(binary::read_record(in, where));
    if (weighted_) keys_.push_back(binary::read_f64(in, where));
    if (weighted_ && std::isnan(keys_.back())) throw UserError(where + ": corrupt sampler state (key)");
  }
  if (pinned_slot_ >= static_cast<int64_t>(n)) throw UserError(where + ": corrupt sampler state (threshold slot)");
  if (weighted_) restore_heap();
}

}  // namespace stratum::data
