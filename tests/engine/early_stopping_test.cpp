// When trainer.early_stopping ends a run, and the learning-rate range test's suggestion.

#include "engine/training/early_stopping.h"

#include <gtest/gtest.h>

#include <cmath>

#include "engine/experiments/lr_range_test.h"
#include "support/user_error.h"

namespace stratum {
namespace {

using training::EarlyStopping;
using Verdict = EarlyStopping::Verdict;

EarlyStoppingOptions options(const std::string& metric, int64_t patience, double min_delta) {
  EarlyStoppingOptions o;
  o.metric = metric;
  o.patience = patience;
  o.min_delta = min_delta;
  return o;
}

TEST(EarlyStopping, StopsAfterPatienceEvaluationsWithoutImprovement) {
  EarlyStopping e(options("validation.loss", 2, 0.0));
  EXPECT_EQ(e.observe(1.0, 10), Verdict::improved);
  EXPECT_EQ(e.observe(0.8, 20), Verdict::improved);
  EXPECT_EQ(e.observe(0.8, 30), Verdict::waiting);  // equal is not better
  EXPECT_EQ(e.observe(0.7, 40), Verdict::improved);  // patience starts over
  EXPECT_EQ(e.observe(0.9, 50), Verdict::waiting);
  EXPECT_EQ(e.observe(std::nan(""), 60), Verdict::stop);  // an empty split never improves
  EXPECT_EQ(e.best_step(), 40);
  EXPECT_DOUBLE_EQ(e.best(), 0.7);
  EXPECT_EQ(e.describe_stop(), "validation.loss has not improved by more than 0 for 2 evaluations (best 0.7 at step 40)");
}

TEST(EarlyStopping, FollowsTheMetricsDirectionAndMinDelta) {
  EarlyStopping accuracy(options("validation.accuracy", 1, 0.01));
  EXPECT_FALSE(accuracy.lower_is_better());
  EXPECT_EQ(accuracy.observe(0.80, 1), Verdict::improved);
  EXPECT_EQ(accuracy.observe(0.805, 2), Verdict::stop);  // not by more than min_delta
  EarlyStoppingOptions forced = options("validation.accuracy", 3, 0.0);
  forced.mode = MetricMode::min;
  EXPECT_TRUE(EarlyStopping(forced).lower_is_better());
  // Resumed counters continue.
  EarlyStopping resumed(options("validation.loss", 3, 0.0));
  resumed.restore(0.5, 100, 2);
  EXPECT_EQ(resumed.observe(0.6, 110), Verdict::stop);
}

// A loss that falls fastest (against log lr) at lr = 1e-3 and diverges past 1e-1.
TEST(LrRangeTest, SuggestsWhereTheLossFallsFastest) {
  std::vector<experiments::RangeTestPoint> points;
  for (int i = 0; i < 200; ++i) {
    const double lr = 1e-6 * std::pow(10.0, 6.0 * i / 199.0);
    const double x = std::log10(lr);
    double loss = 1.0 + 1.0 / (1.0 + std::exp(4.0 * (x + 3.0)));
    if (x > -1) loss += 50 * (x + 1) * (x + 1);
    loss += 0.01 * std::sin(37.0 * i);  // noise the smoothing must see through
    points.push_back({lr, loss});
  }
  points.push_back({1.5, std::nan("")});
  const experiments::RangeTestResult r = experiments::analyse_range_test(points);
  EXPECT_NEAR(std::log10(r.suggested_lr), -3.0, 0.35);
  EXPECT_GT(r.min_loss_lr, 1e-2);
  EXPECT_LT(r.min_loss_lr, 0.2);
  EXPECT_EQ(r.smoothed.size(), 200u);  // stops at the first non-finite loss
  const std::string svg = experiments::range_test_svg(r);
  EXPECT_NE(svg.find("<svg xmlns=\"http://www.w3.org/2000/svg\""), std::string::npos);
  EXPECT_NE(svg.find("<style>"), std::string::npos);
  // Too short to say anything.
  EXPECT_EQ(testing::user_error([&] { experiments::analyse_range_test({{1e-3, std::nan("")}}); }),
            "lr-find: only 0 steps with a finite loss; run more --steps or lower --min-lr");
}

}  // namespace
}  // namespace stratum
