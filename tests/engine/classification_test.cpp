#include "engine/classification.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

namespace stratum {
namespace {

TEST(ConfusionMatrix, ScoresMatchHandComputedValues) {
  // truth:     0 0 0 1 1 2
  // predicted: 0 0 1 1 2 2
  const torch::Tensor truth = torch::tensor({0, 0, 0, 1, 1, 2}, torch::kInt64);
  const torch::Tensor predicted = torch::tensor({0, 0, 1, 1, 2, 2}, torch::kInt64);
  const torch::Tensor logits = torch::one_hot(predicted, 3).to(torch::kFloat32);
  ConfusionMatrix m(3);
  m.add(logits.slice(0, 0, 4), truth.slice(0, 0, 4));  // two batches add up exactly
  m.add(logits.slice(0, 4, 6), truth.slice(0, 4, 6));
  EXPECT_EQ(m.total(), 6);
  EXPECT_EQ(m.count(0, 1), 1);
  const ClassificationScores s = m.scores();
  EXPECT_DOUBLE_EQ(s.accuracy, 4.0 / 6.0);
  // precision: 2/2, 1/2, 1/2; recall: 2/3, 1/2, 1/1
  EXPECT_DOUBLE_EQ(s.precision[0], 1.0);
  EXPECT_DOUBLE_EQ(s.recall[0], 2.0 / 3.0);
  EXPECT_DOUBLE_EQ(s.f1[2], 2 * 0.5 * 1.0 / 1.5);
  EXPECT_DOUBLE_EQ(s.macro_precision, (1.0 + 0.5 + 0.5) / 3);
  EXPECT_DOUBLE_EQ(s.macro_recall, (2.0 / 3 + 0.5 + 1.0) / 3);
}

TEST(ConfusionMatrix, MacroAveragesSkipClassesAbsentFromTruthAndPredictions) {
  ConfusionMatrix m(4);
  m.add(torch::one_hot(torch::tensor({0, 1, 1}, torch::kInt64), 4).to(torch::kFloat32),
        torch::tensor({0, 1, 0}, torch::kInt64));
  const ClassificationScores s = m.scores();
  // Classes 2 and 3 never occur: the macro scores average classes 0 and 1 only.
  EXPECT_DOUBLE_EQ(s.macro_precision, (1.0 + 0.5) / 2);
  EXPECT_DOUBLE_EQ(s.macro_recall, (0.5 + 1.0) / 2);
}

TEST(ClassificationLoss, BalancedWeightsEqualiseClasses) {
  const torch::Tensor w = balanced_class_weights({30, 10, 0});
  EXPECT_FLOAT_EQ(w[0].item<float>(), 40.0f / (2 * 30));
  EXPECT_FLOAT_EQ(w[1].item<float>(), 40.0f / (2 * 10));
  EXPECT_FLOAT_EQ(w[2].item<float>(), 0.0f);
  // Weighted mean: sum(w_t * nll) / sum(w_t).
  const torch::Tensor logits = torch::tensor({{1.0, 0.0, 0.0}, {0.0, 2.0, 0.0}});
  const torch::Tensor targets = torch::tensor({0, 1}, torch::kInt64);
  const torch::Tensor nll = -torch::log_softmax(logits, 1).gather(1, targets.unsqueeze(1)).squeeze(1);
  const double expected = (w[0].item<double>() * nll[0].item<double>() + w[1].item<double>() * nll[1].item<double>()) /
                          (w[0].item<double>() + w[1].item<double>());
  EXPECT_NEAR(classification_loss(logits, targets, 0.0, w).item<double>(), expected, 1e-6);
}

TEST(ClassificationLoss, EqualsNegativeLogSoftmaxAndSmooths) {
  const torch::Tensor logits = torch::tensor({{2.0, 0.5, -1.0}, {0.1, 0.2, 0.3}});
  const torch::Tensor targets = torch::tensor({0, 2}, torch::kInt64);
  const torch::Tensor logp = torch::log_softmax(logits, 1);
  const double expected = -(logp[0][0].item<double>() + logp[1][2].item<double>()) / 2;
  EXPECT_NEAR(classification_loss(logits, targets, 0.0).item<double>(), expected, 1e-6);
  const double smooth = 0.1;
  const double uniform = -logp.mean(1).mean().item<double>();
  EXPECT_NEAR(classification_loss(logits, targets, smooth).item<double>(),
              (1 - smooth) * expected + smooth * uniform, 1e-6);
}

}  // namespace
}  // namespace stratum
