#pragma once
// Test-then-train (prequential) evaluation of a continuous run: each record is scored by the
// model as it is before any step has trained on that record, and every eval.window scored
// records make one "prequential" metrics record (accuracy, loss, macro-F1, recall per label).

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "engine/metrics_writer.h"

namespace stratum {

/// Windowed counts of scored records; a window's record is returned when it fills.
class PrequentialWindows {
 public:
  PrequentialWindows(int64_t window, std::vector<std::string> class_names);

  /// One scored record (class `target`, predicted `predicted`, its loss), the `stream_record`-th
  /// record admitted, scored before step `step`. Returns the window it completes, if it does.
  std::optional<MetricRecord> add(int64_t target, int64_t predicted, double loss, int64_t step, int64_t stream_record);

  int64_t windows_closed() const { return closed_; }
  /// The window in progress and the count of closed ones, for a checkpoint.
  std::string save() const;
  void load(const std::string& bytes, const std::string& where);

 private:
  MetricRecord close(int64_t step, int64_t stream_record);

  int64_t window_;
  std::vector<std::string> names_;
  int64_t scored_ = 0, correct_ = 0, closed_ = 0;
  double loss_sum_ = 0;
  std::vector<int64_t> true_positive_, false_positive_, false_negative_;
};

}  // namespace stratum
