#include "engine/classification.h"

#include <torch/nn/functional/loss.h>
#include <torch/torch.h>

#include "core/error.h"

namespace stratum {

torch::Tensor classification_loss(const torch::Tensor& logits, const torch::Tensor& targets, double label_smoothing,
                                  const torch::Tensor& class_weights) {
  namespace F = torch::nn::functional;
  if (targets.is_floating_point()) {
    const torch::Tensor weights = class_weights.defined() ? targets * class_weights.to(targets.device()).unsqueeze(0)
                                                          : targets;
    return -(weights * torch::log_softmax(logits, 1)).sum() / weights.sum().clamp_min(1e-12);
  }
  auto options = F::CrossEntropyFuncOptions().label_smoothing(label_smoothing);
  if (class_weights.defined()) options.weight(class_weights);
  return F::cross_entropy(logits, targets, options);
}

torch::Tensor balanced_class_weights(const std::vector<int64_t>& counts) {
  int64_t total = 0, present = 0;
  for (int64_t c : counts) {
    total += c;
    present += c > 0;
  }
  std::vector<float> weights(counts.size(), 0.0f);
  for (size_t c = 0; c < counts.size(); ++c) {
    if (counts[c] > 0) weights[c] = static_cast<float>(total) / static_cast<float>(present * counts[c]);
  }
  return torch::tensor(weights);
}

ConfusionMatrix::ConfusionMatrix(int64_t num_classes)
    : classes_(num_classes), counts_(static_cast<size_t>(num_classes * num_classes), 0) {
  STRATUM_CHECK(num_classes > 0, "a confusion matrix needs at least one class");
}

void ConfusionMatrix::add(const torch::Tensor& logits, const torch::Tensor& targets) {
  const torch::Tensor predicted = logits.argmax(1).to(torch::kCPU, torch::kInt64);
  const torch::Tensor truth = targets.to(torch::kCPU, torch::kInt64);
  STRATUM_CHECK(truth.max().item<int64_t>() < classes_, "a target class is outside the model's output classes");
  const torch::Tensor cells = torch::bincount(truth * classes_ + predicted, {}, classes_ * classes_);
  const auto* c = cells.data_ptr<int64_t>();
  for (int64_t i = 0; i < classes_ * classes_; ++i) counts_[i] += c[i];
}

void ConfusionMatrix::set_counts(std::vector<int64_t> counts) {
  STRATUM_CHECK(counts.size() == counts_.size(), "confusion counts of another shape");
  counts_ = std::move(counts);
}

int64_t ConfusionMatrix::total() const {
  int64_t sum = 0;
  for (int64_t v : counts_) sum += v;
  return sum;
}

ClassificationScores ConfusionMatrix::scores() const {
  ClassificationScores s;
  const auto ratio = [](double a, double b) { return b > 0 ? a / b : 0.0; };
  int64_t correct = 0;
  for (int64_t k = 0; k < classes_; ++k) {
    int64_t predicted_k = 0, true_k = 0;
    for (int64_t j = 0; j < classes_; ++j) {
      predicted_k += count(j, k);
      true_k += count(k, j);
    }
    const double tp = static_cast<double>(count(k, k));
    correct += count(k, k);
    const double p = ratio(tp, predicted_k), r = ratio(tp, true_k);
    s.precision.push_back(p);
    s.recall.push_back(r);
    s.f1.push_back(ratio(2 * p * r, p + r));
  }
  // Macro averages run over the classes present in the truth or the predictions (as
  // scikit-learn does), so a split that holds some classes only is not dragged to zero.
  std::vector<bool> present(static_cast<size_t>(classes_), false);
  for (int64_t t = 0; t < classes_; ++t) {
    for (int64_t p = 0; p < classes_; ++p) {
      if (count(t, p) > 0) present[t] = present[p] = true;
    }
  }
  const auto mean = [&](const std::vector<double>& v) {
    double sum = 0;
    int64_t k = 0;
    for (int64_t c = 0; c < classes_; ++c) {
      if (present[c]) sum += v[c], ++k;
    }
    return k ? sum / static_cast<double>(k) : 0.0;
  };
  s.accuracy = ratio(static_cast<double>(correct), static_cast<double>(total()));
  s.macro_precision = mean(s.precision);
  s.macro_recall = mean(s.recall);
  s.macro_f1 = mean(s.f1);
  return s;
}

}  // namespace stratum
