#pragma once
// Confident learning (Northcutt et al., 2021): an example is a likely label error when the
// model's probability for another class reaches that class's average self-confidence (the
// mean probability it gives examples labeled with that class), i.e. the model contradicts
// the label about as confidently as it usually confirms the other class.

#include <torch/types.h>

#include <cstdint>
#include <vector>

namespace stratum::data {

/// One example whose given label the model confidently contradicts.
struct LabelIssue {
  int64_t index = 0;          ///< row of the probabilities
  int64_t given = 0;          ///< the label it has
  int64_t suggested = 0;      ///< the class the model confidently predicts instead
  double given_probability = 0;
  double suggested_probability = 0;
  double threshold = 0;       ///< the suggested class's average self-confidence
};

/// Per-class thresholds: the mean probability of class j over examples labeled j (classes
/// nobody is labeled with get 1, so they are never suggested).
std::vector<double> self_confidence_thresholds(const torch::Tensor& probabilities, const torch::Tensor& labels);

/// Examples whose label is contradicted: some class j != given has p_j >= threshold_j; the
/// suggestion is the most probable such class. Sorted by p_suggested - p_given, largest first.
std::vector<LabelIssue> find_label_issues(const torch::Tensor& probabilities, const torch::Tensor& labels);

}  // namespace stratum::data
