#pragma once
// The learning-rate range test (`stratum lr-find`): a short run whose learning rate rises
// exponentially, read back from metrics.jsonl, smoothed, and turned into a suggested rate.

#include <string>
#include <vector>

namespace stratum::experiments {

/// One step of the test.
struct RangeTestPoint {
  double lr = 0, loss = 0;
};

/// What the test found.
struct RangeTestResult {
  std::vector<RangeTestPoint> points;    ///< as logged
  std::vector<RangeTestPoint> smoothed;  ///< bias-corrected exponential moving average of the loss
  double steepest_lr = 0;   ///< where the smoothed loss falls fastest against log(lr), before its minimum
  double min_loss_lr = 0;   ///< where the smoothed loss is lowest
  double suggested_lr = 0;  ///< steepest_lr
};

/// The "train" records of `metrics_path` as (lr, loss), in step order, non-finite losses included.
std::vector<RangeTestPoint> read_range_test(const std::string& metrics_path);

/// Smooths with factor `beta` and finds the steepest descent; needs at least 5 finite points (a
/// UserError otherwise: the test ran too few steps or diverged at once).
RangeTestResult analyse_range_test(const std::vector<RangeTestPoint>& points, double beta = 0.9);

/// A standalone SVG: loss (raw and smoothed) against log10(lr), the suggestion marked.
std::string range_test_svg(const RangeTestResult& result);

}  // namespace stratum::experiments
