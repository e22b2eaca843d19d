#pragma once
// The classification task: cross-entropy loss and the metrics users judge a classifier by.

#include <torch/types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace stratum {

/// Mean cross-entropy of (B, C) logits against (B) class ids, with label smoothing and
/// optional per-class weights (C). Against (B, C) float soft targets (Mixup / CutMix; their
/// smoothing is already in them): Σ_i Σ_c w_c p_ic (-log softmax(z_i)_c) / Σ_i Σ_c w_c p_ic, which
/// is the weighted hard-target loss again when the rows are one-hot.
torch::Tensor classification_loss(const torch::Tensor& logits, const torch::Tensor& targets, double label_smoothing,
                                  const torch::Tensor& class_weights = {});

/// Weights that balance classes by their example counts: n / (C' * n_c) for the C' classes
/// with examples, 0 for classes without (they never occur as targets).
torch::Tensor balanced_class_weights(const std::vector<int64_t>& counts);

/// Per-class and macro-averaged scores derived from a confusion matrix (macro over the classes
/// present in the truth or the predictions).
struct ClassificationScores {
  double accuracy = 0;
  double macro_precision = 0;
  double macro_recall = 0;
  double macro_f1 = 0;
  std::vector<double> precision, recall, f1;  ///< per class
};

/// A running confusion matrix (rows: true class, columns: predicted class). Counts add up
/// exactly across batches and ranks, so reduced scores are never averages of averages.
class ConfusionMatrix {
 public:
  explicit ConfusionMatrix(int64_t num_classes);

  /// Adds one batch: argmax of (B, C) logits against (B) targets.
  void add(const torch::Tensor& logits, const torch::Tensor& targets);

  int64_t num_classes() const { return classes_; }
  int64_t total() const;
  int64_t count(int64_t truth, int64_t predicted) const { return counts_[truth * classes_ + predicted]; }
  const std::vector<int64_t>& counts() const { return counts_; }
  /// Replaces the counts (e.g. by their sum over the ranks of a job); same size as counts().
  void set_counts(std::vector<int64_t> counts);

  ClassificationScores scores() const;

 private:
  int64_t classes_;
  std::vector<int64_t> counts_;
};

}  // namespace stratum
