#include "engine/lr_schedule.h"

#include <gtest/gtest.h>

#include <cmath>

namespace stratum {
namespace {

TrainerOptions options(const std::string& schedule, int64_t warmup) {
  TrainerOptions t;
  t.lr = 1.0;
  t.min_lr_ratio = 0.1;
  EXPECT_TRUE(parse_choice(schedule, t.schedule)) << schedule;
  t.warmup_steps = warmup;
  return t;
}

TEST(LearningRate, WarmupRisesLinearlyToPeak) {
  const auto t = options("cosine", 4);
  EXPECT_DOUBLE_EQ(learning_rate(t, 0, 100), 0.25);
  EXPECT_DOUBLE_EQ(learning_rate(t, 1, 100), 0.5);
  EXPECT_DOUBLE_EQ(learning_rate(t, 3, 100), 1.0);
  EXPECT_DOUBLE_EQ(learning_rate(t, 4, 100), 1.0);  // first decay step starts at the peak
}

TEST(LearningRate, CosineAndLinearEndAtFloor) {
  for (const char* shape : {"cosine", "linear"}) {
    const auto t = options(shape, 0);
    EXPECT_DOUBLE_EQ(learning_rate(t, 0, 11), 1.0) << shape;
    EXPECT_NEAR(learning_rate(t, 5, 11), 0.55, 1e-12) << shape;  // half-way: both shapes meet
    EXPECT_DOUBLE_EQ(learning_rate(t, 10, 11), 0.1) << shape;
  }
  EXPECT_NEAR(learning_rate(options("cosine", 0), 2, 11), 0.1 + 0.9 * 0.5 * (1 + std::cos(M_PI * 0.2)), 1e-12);
  EXPECT_NEAR(learning_rate(options("linear", 0), 2, 11), 0.82, 1e-12);
}

TEST(LearningRate, ConstantStaysAtPeak) {
  const auto t = options("constant", 2);
  EXPECT_DOUBLE_EQ(learning_rate(t, 0, 10), 0.5);
  EXPECT_DOUBLE_EQ(learning_rate(t, 9, 10), 1.0);
}

TEST(LearningRate, RangeTestRisesExponentiallyFromFloorToPeak) {
  auto t = options("range_test", 0);
  t.min_lr_ratio = 1e-4;
  EXPECT_DOUBLE_EQ(learning_rate(t, 0, 101), 1e-4);
  EXPECT_NEAR(learning_rate(t, 50, 101), 1e-2, 1e-12);  // half-way in log space
  EXPECT_NEAR(learning_rate(t, 100, 101), 1.0, 1e-12);
  // Equal ratios between equal step counts.
  EXPECT_NEAR(learning_rate(t, 30, 101) / learning_rate(t, 20, 101), learning_rate(t, 90, 101) / learning_rate(t, 80, 101),
              1e-9);
}

}  // namespace
}  // namespace stratum
