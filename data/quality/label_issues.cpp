#include "data/quality/label_issues.h"

#include <torch/torch.h>

#include <algorithm>

namespace stratum::data {

std::vector<double> self_confidence_thresholds(const torch::Tensor& probabilities, const torch::Tensor& labels) {
  const int64_t classes = probabilities.size(1);
  const torch::Tensor p = probabilities.to(torch::kFloat64).contiguous();
  const torch::Tensor y = labels.to(torch::kInt64).contiguous();
  std::vector<double> sum(static_cast<size_t>(classes), 0.0), count(static_cast<size_t>(classes), 0.0);
  const auto* pp = p.data_ptr<double>();
  const auto* yy = y.data_ptr<int64_t>();
  for (int64_t i = 0; i < p.size(0); ++i) {
    if (yy[i] < 0 || yy[i] >= classes) continue;
    sum[static_cast<size_t>(yy[i])] += pp[i * classes + yy[i]];
    count[static_cast<size_t>(yy[i])] += 1;
  }
  std::vector<double> thresholds(static_cast<size_t>(classes), 1.0);
  for (size_t j = 0; j < thresholds.size(); ++j) {
    if (count[j] > 0) thresholds[j] = sum[j] / count[j];
  }
  return thresholds;
}

std::vector<LabelIssue> find_label_issues(const torch::Tensor& probabilities, const torch::Tensor& labels) {
  const std::vector<double> thresholds = self_confidence_thresholds(probabilities, labels);
  const int64_t classes = probabilities.size(1);
  const torch::Tensor p = probabilities.to(torch::kFloat64).contiguous();
  const torch::Tensor y = labels.to(torch::kInt64).contiguous();
  const auto* pp = p.data_ptr<double>();
  const auto* yy = y.data_ptr<int64_t>();
  std::vector<LabelIssue> issues;
  for (int64_t i = 0; i < p.size(0); ++i) {
    const int64_t given = yy[i];
    if (given < 0 || given >= classes) continue;
    int64_t best = -1;
    for (int64_t j = 0; j < classes; ++j) {
      if (j == given || pp[i * classes + j] < thresholds[static_cast<size_t>(j)]) continue;
      if (best < 0 || pp[i * classes + j] > pp[i * classes + best]) best = j;
    }
    // Only a contradiction when the suggested class is also more likely than the given one.
    if (best < 0 || pp[i * classes + best] <= pp[i * classes + given]) continue;
    issues.push_back({i, given, best, pp[i * classes + given], pp[i * classes + best], thresholds[static_cast<size_t>(best)]});
  }
  std::stable_sort(issues.begin(), issues.end(), [](const LabelIssue& a, const LabelIssue& b) {
    return a.suggested_probability - a.given_probability > b.suggested_probability - b.given_probability;
  });
  return issues;
}

}  // namespace stratum::data
