#include "engine/loss_scaler.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <limits>

namespace stratum {
namespace {

torch::Tensor parameter_with_grad(std::vector<float> grad) {
  torch::Tensor p = torch::zeros({static_cast<int64_t>(grad.size())}, torch::requires_grad());
  p.mutable_grad() = torch::tensor(grad);
  return p;
}

TEST(LossScaler, ScalesTheLossAndUnscalesGradientsExactly) {
  LossScaler scaler(true, {1024.0, 2.0, 0.5, 3});
  EXPECT_DOUBLE_EQ(scaler.scale(torch::tensor(0.25)).item<double>(), 256.0);
  const torch::Tensor p = parameter_with_grad({2048.0f, -512.0f});
  EXPECT_TRUE(scaler.unscale({p}));
  EXPECT_TRUE(torch::equal(p.grad(), torch::tensor({2.0f, -0.5f})));
}

TEST(LossScaler, AnOverflowSkipsTheStepAndBacksOffThenCleanStepsGrowTheFactor) {
  LossScaler scaler(true, {1024.0, 2.0, 0.5, 3});
  const float inf = std::numeric_limits<float>::infinity();
  EXPECT_FALSE(scaler.unscale({parameter_with_grad({1.0f}), parameter_with_grad({inf})}));
  EXPECT_FALSE(scaler.unscale({parameter_with_grad({std::nanf("")})}));
  scaler.update(false);
  EXPECT_DOUBLE_EQ(scaler.factor(), 512.0);
  EXPECT_EQ(scaler.skipped_steps(), 1);
  scaler.update(true);
  scaler.update(true);
  EXPECT_DOUBLE_EQ(scaler.factor(), 512.0);
  EXPECT_EQ(scaler.clean_steps(), 2);
  scaler.update(true);
  EXPECT_DOUBLE_EQ(scaler.factor(), 1024.0);
  EXPECT_EQ(scaler.clean_steps(), 0);
  scaler.restore(8.0, 2, 5);
  scaler.update(true);
  EXPECT_DOUBLE_EQ(scaler.factor(), 16.0);
  EXPECT_EQ(scaler.skipped_steps(), 5);
}

TEST(LossScaler, DisabledIsTheIdentityAndNeverSkips) {
  LossScaler scaler(false);
  const torch::Tensor loss = torch::tensor(3.0);
  EXPECT_TRUE(scaler.scale(loss).is_same(loss));
  const torch::Tensor p = parameter_with_grad({std::numeric_limits<float>::infinity()});
  EXPECT_TRUE(scaler.unscale({p}));
  scaler.update(false);
  EXPECT_DOUBLE_EQ(scaler.factor(), 1.0);
  EXPECT_EQ(scaler.skipped_steps(), 0);
}

TEST(LossScaler, RecoversGradientsThatUnderflowFloat16WithoutIt) {
  // A gradient of 1e-8 is zero in float16; scaled by 65536 it survives and unscales back.
  const torch::Tensor tiny = torch::full({4}, 1e-8, torch::kFloat32);
  EXPECT_EQ(tiny.to(torch::kHalf).to(torch::kFloat32).abs().sum().item<float>(), 0.0f);
  LossScaler scaler(true);
  const torch::Tensor p = parameter_with_grad({0, 0, 0, 0});
  p.mutable_grad() = (tiny * scaler.factor()).to(torch::kHalf).to(torch::kFloat32);
  ASSERT_TRUE(scaler.unscale({p}));
  EXPECT_NEAR(p.grad()[0].item<float>(), 1e-8, 1e-10);
}

}  // namespace
}  // namespace stratum
