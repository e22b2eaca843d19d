// Mean, standard deviation and t intervals over seeds; bootstrap intervals over examples.

#include "engine/experiments/run_statistics.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

namespace stratum::experiments {
namespace {

TEST(RunStatistics, SummarizesSeedsWithStudentsT) {
  const SeedSummary s = summarize_seeds({1.0, 2.0, 3.0, std::nan("")});
  EXPECT_EQ(s.n, 3);
  EXPECT_DOUBLE_EQ(s.mean, 2.0);
  EXPECT_DOUBLE_EQ(s.std, 1.0);
  EXPECT_NEAR(s.ci_high - s.mean, 4.303 / std::sqrt(3.0), 1e-9);
  const SeedSummary one = summarize_seeds({0.5});
  EXPECT_EQ(one.std, 0.0);
  EXPECT_EQ(one.ci_low, 0.5);
  EXPECT_TRUE(std::isnan(summarize_seeds({}).mean));
  EXPECT_DOUBLE_EQ(t_quantile_975(1), 12.706);
  EXPECT_DOUBLE_EQ(t_quantile_975(1000), 1.96);
}

// The interval covers the true mean in 95% of experiments with 3 seeds each (4,000 of them,
// within 4 standard errors). With the normal's 1.96 instead of t's 4.303 the coverage would be
// ~80% and this test fails.
TEST(RunStatistics, TIntervalsOverThreeSeedsCoverTheMean95PercentOfTheTime) {
  std::mt19937_64 rng(7);
  std::normal_distribution<double> noise(0.9, 0.01);
  constexpr int kExperiments = 4000;
  int covered = 0;
  for (int e = 0; e < kExperiments; ++e) {
    const SeedSummary s = summarize_seeds({noise(rng), noise(rng), noise(rng)});
    covered += s.ci_low <= 0.9 && 0.9 <= s.ci_high;
  }
  const double se = std::sqrt(0.95 * 0.05 / kExperiments);
  EXPECT_NEAR(covered / double(kExperiments), 0.95, 4 * se);
}

TEST(RunStatistics, MacroF1CountsClassesInTruthOrPredictions) {
  // scikit-learn: f1_score([0,0,1,1,2], [0,1,1,1,0], average="macro") = (0.5 + 0.8 + 0) / 3; class 3
  // (in neither) does not count
  const LabeledPredictions p{{0, 0, 1, 1, 2}, {0, 1, 1, 1, 0}, 4};
  const std::vector<int64_t> all{0, 1, 2, 3, 4};
  EXPECT_NEAR(macro_f1_of(p, all), (0.5 + 0.8 + 0.0) / 3, 1e-12);
  EXPECT_DOUBLE_EQ(accuracy_of(p, all), 0.6);
}

LabeledPredictions with_accuracy(size_t n, double accuracy, std::mt19937_64& rng) {
  LabeledPredictions p;
  p.num_classes = 10;
  std::uniform_real_distribution<double> u(0, 1);
  for (size_t i = 0; i < n; ++i) {
    const int64_t t = static_cast<int64_t>(i % 10);
    p.target.push_back(t);
    p.predicted.push_back(u(rng) < accuracy ? t : (t + 1) % 10);
  }
  return p;
}

TEST(RunStatistics, PairedBootstrapFindsARealDifferenceAndNotAFalseOne) {
  std::mt19937_64 rng(3);
  const LabeledPredictions a = with_accuracy(2000, 0.80, rng);
  // Identical predictions: the difference is exactly 0 in every resample.
  const PairedDifference same = paired_bootstrap(a, a, 500, 1);
  EXPECT_EQ(same.accuracy.low, 0.0);
  EXPECT_EQ(same.accuracy.high, 0.0);
  // b is a with 100 of its errors corrected: 5 points better on the same examples.
  LabeledPredictions b = a;
  int fixed = 0;
  for (size_t i = 0; i < b.target.size() && fixed < 100; ++i) {
    if (b.predicted[i] != b.target[i]) b.predicted[i] = b.target[i], ++fixed;
  }
  const PairedDifference d = paired_bootstrap(a, b, 1000, 1);
  EXPECT_NEAR(d.accuracy.value, 0.05, 1e-12);
  EXPECT_GT(d.accuracy.low, 0.0);
  EXPECT_LT(d.accuracy.low, 0.05);
  EXPECT_GT(d.accuracy.high, 0.05);
  EXPECT_GT(d.macro_f1.low, 0.0);
  // One run's own interval is about ±1.96 sqrt(p(1-p)/n) wide.
  const PairedDifference own = bootstrap_scores(a, 1000, 2);
  const double half = 1.96 * std::sqrt(own.accuracy.value * (1 - own.accuracy.value) / 2000);
  EXPECT_NEAR(own.accuracy.high - own.accuracy.low, 2 * half, 0.3 * half);
}

}  // namespace
}  // namespace stratum::experiments
