#include "engine/calibration.h"

#include <algorithm>
#include <cmath>

namespace stratum {

double expected_calibration_error(const std::vector<float>& confidence, const std::vector<uint8_t>& correct,
                                  int bins) {
  if (confidence.empty()) return 0;
  std::vector<double> count(static_cast<size_t>(bins), 0), sum_confidence(count), sum_correct(count);
  for (size_t i = 0; i < confidence.size(); ++i) {
    const int bin = std::min(bins - 1, static_cast<int>(confidence[i] * static_cast<float>(bins)));
    count[bin] += 1;
    sum_confidence[bin] += confidence[i];
    sum_correct[bin] += correct[i];
  }
  double ece = 0;
  for (int b = 0; b < bins; ++b) {
    if (count[b] > 0) ece += std::fabs(sum_correct[b] - sum_confidence[b]);  // = n_b * |acc_b - conf_b|
  }
  return ece / static_cast<double>(confidence.size());
}

double auroc(std::vector<float> positives, std::vector<float> negatives) {
  if (positives.empty() || negatives.empty()) return 0.5;
  std::sort(negatives.begin(), negatives.end());
  double wins = 0;
  for (float p : positives) {
    const auto below = std::lower_bound(negatives.begin(), negatives.end(), p) - negatives.begin();
    const auto ties = std::upper_bound(negatives.begin(), negatives.end(), p) - negatives.begin() - below;
    wins += static_cast<double>(below) + 0.5 * static_cast<double>(ties);
  }
  return wins / (static_cast<double>(positives.size()) * static_cast<double>(negatives.size()));
}

double rejection_rate(const std::vector<float>& scores, double threshold) {
  if (scores.empty()) return 0;
  const auto rejected = std::count_if(scores.begin(), scores.end(), [&](float s) { return s < threshold; });
  return static_cast<double>(rejected) / static_cast<double>(scores.size());
}

}  // namespace stratum
