#include "data/quality/selection.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "data/quality/label_issues.h"
#include "support/user_error.h"

namespace stratum::data {
namespace {

using ::testing::ElementsAre;

TEST(Uncertainty, MeasuresMatchTheirDefinitions) {
  const torch::Tensor p = torch::tensor({{0.7, 0.2, 0.1}, {0.4, 0.4, 0.2}, {1.0, 0.0, 0.0}}, torch::kFloat64);
  const auto lc = uncertainty_scores(p, Uncertainty::least_confidence);
  EXPECT_NEAR(lc[0].item<double>(), 0.3, 1e-12);
  EXPECT_NEAR(lc[2].item<double>(), 0.0, 1e-12);
  const auto margin = uncertainty_scores(p, Uncertainty::margin);
  EXPECT_NEAR(margin[0].item<double>(), 0.5, 1e-12);
  EXPECT_NEAR(margin[1].item<double>(), 1.0, 1e-12);
  const auto entropy = uncertainty_scores(p, Uncertainty::entropy);
  EXPECT_NEAR(entropy[0].item<double>(), -(0.7 * std::log(0.7) + 0.2 * std::log(0.2) + 0.1 * std::log(0.1)), 1e-12);
  EXPECT_NEAR(entropy[2].item<double>(), 0.0, 1e-12);
  EXPECT_EQ(testing::user_error([] { parse_uncertainty("random", "--by"); }),
            "--by: expected least_confidence, margin or entropy, got \"random\"");
}

TEST(Selection, TopKWithoutDiversityAndKCenterWithIt) {
  // Four near-copies of one uncertain input score highest; two distinct inputs a little lower.
  const torch::Tensor scores = torch::tensor({0.99, 0.98, 0.97, 0.96, 0.95, 0.90, 0.85, 0.1});
  torch::Tensor embeddings = torch::zeros({8, 2});
  for (int i = 0; i < 4; ++i) embeddings[i] = torch::tensor({0.0f, 0.01f * static_cast<float>(i)});
  embeddings[4] = torch::tensor({5.0f, 0.0f});
  embeddings[5] = torch::tensor({0.0f, 5.0f});
  embeddings[6] = torch::tensor({0.0f, 0.05f});  // another copy
  embeddings[7] = torch::tensor({9.0f, 9.0f});   // far away but certain: outside the 2k candidates
  EXPECT_THAT(select_for_labeling(scores, {}, 3), ElementsAre(0, 1, 2));
  EXPECT_THAT(select_for_labeling(scores, embeddings, 3, /*pool_factor=*/2), ElementsAre(0, 4, 5));
  EXPECT_EQ(select_for_labeling(scores, embeddings, 20).size(), 8u);
}

TEST(LabelIssues, ConfidentLearningFindsFlippedLabelsAndNotHardCorrectOnes) {
  // 3 classes; a model that is right and confident on clean examples. Examples 0-2 carry a
  // wrong label the model contradicts; example 3 is correctly labeled but uncertain.
  std::vector<std::vector<double>> rows;
  std::vector<int64_t> labels;
  for (int c = 0; c < 3; ++c) {
    for (int i = 0; i < 20; ++i) {
      std::vector<double> p(3, 0.05);
      p[static_cast<size_t>(c)] = 0.9;
      rows.push_back(p);
      labels.push_back(c);
    }
  }
  rows[0] = {0.02, 0.95, 0.03};  // labeled 0, looks like 1
  rows[20] = {0.05, 0.03, 0.92};  // labeled 1, looks like 2
  rows[40] = {0.70, 0.05, 0.25};  // labeled 2, looks like 0 but below class 0's usual confidence
  rows[41] = {0.45, 0.10, 0.45};  // labeled 2, a hard but correct one
  torch::Tensor p = torch::empty({static_cast<int64_t>(rows.size()), 3}, torch::kFloat64);
  for (size_t i = 0; i < rows.size(); ++i) p[static_cast<int64_t>(i)] = torch::tensor(rows[i], torch::kFloat64);
  const torch::Tensor y = torch::tensor(labels);
  const std::vector<double> t = self_confidence_thresholds(p, y);
  EXPECT_NEAR(t[0], (19 * 0.9 + 0.02) / 20, 1e-12);
  const std::vector<LabelIssue> issues = find_label_issues(p, y);
  ASSERT_EQ(issues.size(), 2u);
  EXPECT_EQ(issues[0].index, 0);  // the larger margin first
  EXPECT_EQ(issues[0].suggested, 1);
  EXPECT_EQ(issues[1].index, 20);
  EXPECT_EQ(issues[1].suggested, 2);
}

}  // namespace
}  // namespace stratum::data
