#include "engine/calibration.h"

#include <gtest/gtest.h>

namespace stratum {
namespace {

TEST(Calibration, ExpectedCalibrationErrorByHand) {
  // Two bins used (of 10): {0.95, 0.95} all correct -> |1 - 0.95| = 0.05 over 2 examples;
  // {0.55, 0.55} half correct -> |0.5 - 0.55| = 0.05 over 2 examples. ECE = 0.05.
  EXPECT_NEAR(expected_calibration_error({0.95f, 0.95f, 0.55f, 0.55f}, {1, 1, 1, 0}, 10), 0.05, 1e-6);
  // Perfectly calibrated: confidence 1 and always right.
  EXPECT_NEAR(expected_calibration_error({1.0f, 1.0f}, {1, 1}, 15), 0.0, 1e-9);
  EXPECT_EQ(expected_calibration_error({}, {}), 0.0);
}

TEST(Calibration, AurocCountsPairsAndTies) {
  EXPECT_DOUBLE_EQ(auroc({0.9f, 0.8f}, {0.1f, 0.2f}), 1.0);
  EXPECT_DOUBLE_EQ(auroc({0.1f}, {0.9f}), 0.0);
  // 0.5 beats 0.3 and ties 0.5: (1 + 0.5) / 2.
  EXPECT_DOUBLE_EQ(auroc({0.5f}, {0.3f, 0.5f}), 0.75);
  EXPECT_DOUBLE_EQ(auroc({0.6f, 0.2f}, {0.4f}), 0.5);
}

TEST(Calibration, RejectionRate) {
  EXPECT_DOUBLE_EQ(rejection_rate({0.1f, 0.4f, 0.6f, 0.9f}, 0.5), 0.5);
  EXPECT_DOUBLE_EQ(rejection_rate({}, 0.5), 0.0);
}

}  // namespace
}  // namespace stratum
