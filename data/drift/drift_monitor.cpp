#include "data/drift/drift_monitor.h"

#include <algorithm>

#include "data/drift/drift_statistics.h"

namespace stratum::data {

DriftMonitor::DriftMonitor(const DriftSection& options) : options_(options) {}

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
    last_closed_ = std::move(current_);
  }
  current_ = Sample{};
  events_.insert(events_.end(), raised.begin(), raised.end());
  return raised;
}

void DriftMonitor::reset_reference() {
  if (!last_closed_.label_counts.empty() || !last_closed_.features.empty()) reference_ = last_closed_;
}

}  // namespace stratum::data
