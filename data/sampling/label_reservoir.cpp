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
    : rng_(seed, stream), weighted_(weighted) {}

int64_t LabelReservoir::min_slot() const { return heap_.front(); }

void LabelReservoir::restore_heap() {
  heap_.resize(items_.size());
  for (size_t i = 0; i < heap_.size(); ++i) heap_[i] = static_cast<int64_t>(i);
  std::make_heap(heap_.begin(), heap_.end(), [this](int64_t a, int64_t b) { return keys_[a] > keys_[b]; });
}

int64_t LabelReservoir::accept_filling(double log_weight) {
  const int64_t slot = size();
  items_.emplace_back();
  if (weighted_) {
    keys_.push_back(log_weight - std::log(-std::log(rng_.uniform())));
    heap_.push_back(slot);
    std::push_heap(heap_.begin(), heap_.end(), [this](int64_t a, int64_t b) { return keys_[a] > keys_[b]; });
  }
  if (size() == capacity_) start_skipping();
  return slot;
}

void LabelReservoir::start_skipping() {
  if (capacity_ <= 0) return;
  if (weighted_) {
    // A-ExpJ: skip records until their summed weight passes X = log(r) / log(T_min).
    log_skip_ = std::log(-std::log(rng_.uniform())) + keys_[min_slot()];
    log_accumulated_ = kNegInf;
  } else {
    // Algorithm L: W = u^(1/k); the next accepted record is floor(log(u') / log(1 - W)) + 1 ahead.
    log_w_ = std::log(rng_.uniform()) / static_cast<double>(capacity_);
    const double gap = std::floor(std::log(rng_.uniform()) / std::log1p(-std::exp(log_w_)));
    next_accept_ = seen_ + static_cast<int64_t>(std::min<double>(gap, kFarAway)) + 1;
  }
}

int64_t LabelReservoir::offer(double log_weight) {
  ++seen_;
  if (size() < capacity_) return accept_filling(log_weight);
  if (capacity_ == 0) return -1;

  if (!weighted_) {
    if (seen_ < next_accept_) return -1;
    const int64_t slot = static_cast<int64_t>(rng_.below(static_cast<uint64_t>(capacity_)));
    log_w_ += std::log(rng_.uniform()) / static_cast<double>(capacity_);
    const double gap = std::floor(std::log(rng_.uniform()) / std::log1p(-std::exp(log_w_)));
    next_accept_ += static_cast<int64_t>(std::min<double>(gap, kFarAway)) + 1;
    return slot;
  }

  log_accumulated_ = log_add_exp(log_accumulated_, log_weight);
  if (log_accumulated_ < log_skip_) return -1;
  // This record replaces the lowest key. Its key is drawn from u^(1/w) conditioned on beating
  // T_min: with a = w / exp(s_min), v = -log(r2) is exponential truncated to (0, a).
  const auto greater = [this](int64_t a, int64_t b) { return keys_[a] > keys_[b]; };
  std::pop_heap(heap_.begin(), heap_.end(), greater);
  const int64_t slot = heap_.back();
  const double a = std::exp(log_weight - keys_[slot]);
  const double v = -std::log1p(-rng_.uniform() * -std::expm1(-a));
  keys_[slot] = log_weight - std::log(v);
  std::push_heap(heap_.begin(), heap_.end(), greater);
  start_skipping();
  return slot;
}

int64_t LabelReservoir::eviction_candidate() {
  STRATUM_CHECK(!items_.empty(), "eviction from an empty reservoir");
  return weighted_ ? min_slot() : static_cast<int64_t>(rng_.below(items_.size()));
}

Record LabelReservoir::remove(int64_t slot) {
  STRATUM_CHECK(slot >= 0 && slot < size(), "slot out of range");
  Record removed = std::move(items_[slot]);
  items_[slot] = std::move(items_.back());
  items_.pop_back();
  if (weighted_) {
    keys_[slot] = keys_.back();
    keys_.pop_back();
    restore_heap();
  }
  // The reservoir stays full at its new size, so later records are still accepted with
  // probability size/seen instead of all being taken to refill the gap.
  capacity_ = size();
  start_skipping();
  return removed;
}

void LabelReservoir::set_capacity(int64_t capacity, std::vector<Record>* evicted) {
  STRATUM_CHECK(capacity >= 0, "negative reservoir capacity");
  if (capacity == capacity_) return;
  while (size() > capacity) {
    Record r = remove(eviction_candidate());
    if (evicted) evicted->push_back(std::move(r));
  }
  capacity_ = capacity;
  if (size() == capacity_) start_skipping();
}

void LabelReservoir::save(std::ostream& out) const {
  for (uint64_t s : rng_.state) binary::write_u64(out, s);
  binary::write_u64(out, weighted_);
  binary::write_u64(out, static_cast<uint64_t>(capacity_));
  binary::write_u64(out, static_cast<uint64_t>(seen_));
  binary::write_u64(out, static_cast<uint64_t>(next_accept_));
  binary::write_f64(out, log_w_);
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
  seen_ = static_cast<int64_t>(binary::read_u64(in, where));
  next_accept_ = static_cast<int64_t>(binary::read_u64(in, where));
  log_w_ = binary::read_f64(in, where);
  log_skip_ = binary::read_f64(in, where);
  log_accumulated_ = binary::read_f64(in, where);
  const uint64_t n = binary::read_count(in, where, static_cast<uint64_t>(capacity_));
  items_.clear();
  keys_.clear();
  for (uint64_t i = 0; i < n; ++i) {
    items_.push_back(binary::read_record(in, where));
    if (weighted_) keys_.push_back(binary::read_f64(in, where));
  }
  if (weighted_) restore_heap();
}

}  // namespace stratum::data
