#include "data/drift/drift_monitor.h"

#include <algorithm>
#include <istream>
#include <ostream>

#include "data/binary_io.h"

#include "data/drift/drift_statistics.h"

namespace stratum::data {
namespace {

// A stream that never ends must not grow the history: keep the latest kMaxHistory entries,
// dropping the oldest half at a time so the cost stays amortized constant.
template <class T>
void keep_latest(std::vector<T>& history) {
  if (history.size() <= DriftMonitor::kMaxHistory) return;
  history.erase(history.begin(), history.begin() + static_cast<std::ptrdiff_t>(history.size() - DriftMonitor::kMaxHistory / 2));
}

}  // namespace

DriftMonitor::DriftMonitor(const DriftOptions& options) : options_(options) {}

void DriftMonitor::Sample::add(const Record& record) {
  const int32_t label = record.labels.empty() ? -1 : record.labels[0];
  if (label >= 0) {
    if (static_cast<size_t>(label) >= label_counts.size()) label_counts.resize(static_cast<size_t>(label) + 1, 0);
    ++label_counts[static_cast<size_t>(label)];
  }
  if (features.size() < record.features.size()) features.resize(record.features.size());
  for (size_t f = 0; f < record.features.size(); ++f) features[f].push_back(record.features[f]);
}

std::vector<DriftEvent> DriftMonitor::observe(const Record& record) {
  if (options_.window <= 0) return {};
  ++observed_;
  current_.add(record);
  if (observed_ % options_.window != 0) return {};
  return close_window();
}

std::vector<DriftEvent> DriftMonitor::close_window() {
  std::vector<DriftEvent> raised;
  if (!have_reference_) {
    reference_ = std::move(current_);
    have_reference_ = true;
  } else {
    DriftWindow w;
    w.end_record = observed_;
    w.label_counts = current_.label_counts;
    w.tv = total_variation(reference_.label_counts, current_.label_counts);
    w.psi = population_stability_index(reference_.label_counts, current_.label_counts);
    const auto check = [&](const std::string& statistic, const std::string& subject, double value, double threshold) {
      if (threshold > 0 && value >= threshold) raised.push_back({observed_, statistic, subject, value, threshold});
    };
    check("tv", "labels", w.tv, options_.tv_threshold);
    check("psi", "labels", w.psi, options_.psi_threshold);
    const size_t features = std::min(reference_.features.size(), current_.features.size());
    for (size_t f = 0; f < features; ++f) {
      const double ks = ks_statistic(reference_.features[f], current_.features[f]);
      const double w1 = wasserstein1(reference_.features[f], current_.features[f]);
      w.max_ks = std::max(w.max_ks, ks);
      w.max_wasserstein = std::max(w.max_wasserstein, w1);
      check("ks", "feature " + std::to_string(f), ks, options_.ks_threshold);
      check("wasserstein", "feature " + std::to_string(f), w1, options_.wasserstein_threshold);
    }
    windows_.push_back(std::move(w));
    keep_latest(windows_);
    last_closed_ = std::move(current_);
  }
  current_ = Sample{};
  events_.insert(events_.end(), raised.begin(), raised.end());
  keep_latest(events_);
  return raised;
}

void DriftMonitor::reset_reference() {
  if (!last_closed_.label_counts.empty() || !last_closed_.features.empty()) reference_ = last_closed_;
}

namespace {

void save_counts(std::ostream& out, const std::vector<int64_t>& counts) {
  binary::write_u64(out, counts.size());
  for (int64_t c : counts) binary::write_u64(out, static_cast<uint64_t>(c));
}

std::vector<int64_t> load_counts(std::istream& in, const std::string& where) {
  std::vector<int64_t> counts(binary::read_count(in, where, 1 << 20));
  for (int64_t& c : counts) c = static_cast<int64_t>(binary::read_u64(in, where));
  return counts;
}

}  // namespace

void DriftMonitor::save(std::ostream& out) const {
  binary::write_u64(out, static_cast<uint64_t>(observed_));
  binary::write_u64(out, have_reference_);
  for (const Sample* sample : {&reference_, &current_, &last_closed_}) {
    save_counts(out, sample->label_counts);
    binary::write_u64(out, sample->features.size());
    for (const auto& values : sample->features) {
      binary::write_u64(out, values.size());
      for (double v : values) binary::write_f64(out, v);
    }
  }
  binary::write_u64(out, windows_.size());
  for (const DriftWindow& w : windows_) {
    binary::write_u64(out, static_cast<uint64_t>(w.end_record));
    for (double v : {w.tv, w.psi, w.max_ks, w.max_wasserstein}) binary::write_f64(out, v);
    save_counts(out, w.label_counts);
  }
  binary::write_u64(out, events_.size());
  for (const DriftEvent& e : events_) {
    binary::write_u64(out, static_cast<uint64_t>(e.record));
    binary::write_string(out, e.statistic);
    binary::write_string(out, e.subject);
    binary::write_f64(out, e.value);
    binary::write_f64(out, e.threshold);
  }
}

void DriftMonitor::load(std::istream& in, const std::string& where) {
  observed_ = static_cast<int64_t>(binary::read_u64(in, where));
  have_reference_ = binary::read_u64(in, where) != 0;
  for (Sample* sample : {&reference_, &current_, &last_closed_}) {
    sample->label_counts = load_counts(in, where);
    sample->features.assign(binary::read_count(in, where, 1 << 16), {});
    for (auto& values : sample->features) {
      values.resize(binary::read_count(in, where, uint64_t{1} << 32));
      for (double& v : values) v = binary::read_f64(in, where);
    }
  }
  windows_.assign(binary::read_count(in, where, uint64_t{1} << 32), {});
  for (DriftWindow& w : windows_) {
    w.end_record = static_cast<int64_t>(binary::read_u64(in, where));
    for (double* v : {&w.tv, &w.psi, &w.max_ks, &w.max_wasserstein}) *v = binary::read_f64(in, where);
    w.label_counts = load_counts(in, where);
  }
  events_.assign(binary::read_count(in, where, uint64_t{1} << 32), {});
  for (DriftEvent& e : events_) {
    e.record = static_cast<int64_t>(binary::read_u64(in, where));
    e.statistic = binary::read_string(in, where, 64);
    e.subject = binary::read_string(in, where, 256);
    e.value = binary::read_f64(in, where);
    e.threshold = binary::read_f64(in, where);
  }
}

}  // namespace stratum::data
