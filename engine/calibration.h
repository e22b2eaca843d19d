#pragma once
// How far a classifier's confidence can be trusted: calibration error on known data, and how
// well the confidence separates known inputs from unknown ones.

#include <cstdint>
#include <vector>

namespace stratum {

/// Expected calibration error: the confidence range [0, 1] cut into `bins` equal bins; the
/// sum over bins of (share of examples) * |accuracy - mean confidence|.
double expected_calibration_error(const std::vector<float>& confidence, const std::vector<uint8_t>& correct,
                                  int bins = 15);

/// Area under the ROC curve of a score that should be higher for `positives` than for
/// `negatives`: P(positive > negative) + 0.5 P(tie), computed exactly by ranking.
double auroc(std::vector<float> positives, std::vector<float> negatives);

/// Share of `scores` strictly below `threshold` (what a confidence threshold rejects).
double rejection_rate(const std::vector<float>& scores, double threshold);

}  // namespace stratum
