#pragma once
// Watches the training stream in fixed windows of records and compares each window with a
// reference window: label mix (total variation, PSI) and every numeric feature
// (Kolmogorov-Smirnov, Wasserstein-1). Crossing a threshold raises a DriftEvent.

#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

#include "data/data_options.h"
#include "data/drift/drift_event.h"
#include "data/record.h"

namespace stratum::data {

/// Windowed drift detection over records as they stream past.
class DriftMonitor {
 public:
  explicit DriftMonitor(const DriftOptions& options);

  /// Observes one record; when it closes a window, returns the events that window raised.
  std::vector<DriftEvent> observe(const Record& record);

  /// Makes the most recent closed window the new reference (after the user's data moved on).
  void reset_reference();

  /// The latest compared windows and raised events: at most kMaxHistory of each (a stream that
  /// never ends keeps the most recent half once that is reached).
  const std::vector<DriftWindow>& windows() const { return windows_; }
  const std::vector<DriftEvent>& events() const { return events_; }

  /// Writes and restores the windows in progress and the history, for exact resumption.
  void save(std::ostream& out) const;
  void load(std::istream& in, const std::string& where);
  static constexpr size_t kMaxHistory = 4096;

 private:
  struct Sample {
    std::vector<int64_t> label_counts;
    std::vector<std::vector<double>> features;  // [feature][record]
    void add(const Record& record);
  };
  std::vector<DriftEvent> close_window();

  DriftOptions options_;
  int64_t observed_ = 0;
  bool have_reference_ = false;
  Sample reference_, current_, last_closed_;
  std::vector<DriftWindow> windows_;
  std::vector<DriftEvent> events_;
};

}  // namespace stratum::data
