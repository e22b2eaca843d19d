// Mixup and CutMix: exact blends and boxes, soft targets that sum to one, lambda drawn from
// Beta(alpha, alpha) (mean and variance over thousands of batches), the CutMix / Mixup switch
// share, seeded draws, and the soft-target loss against the hard-target one.

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

#include "engine/classification.h"
#include "engine/mixup.h"

namespace stratum {
namespace {

data::Batch image_batch(int64_t n) {
  torch::manual_seed(5);
  return {torch::rand({n, 3, 8, 10}), torch::arange(n, torch::kInt64).remainder(4)};
}

MixupOptions mixup_only(double alpha) {
  MixupOptions o;
  o.mixup_alpha = alpha;
  return o;
}

TEST(Mixup, BlendsEachExampleWithItsReverseAndItsTargetsAlike) {
  const data::Batch batch = image_batch(6);
  const MixedBatch m = mix_batch(batch, 4, 0.1, mixup_only(0.8), 42);
  ASSERT_TRUE(m.mixed);
  ASSERT_FALSE(m.cutmix);
  EXPECT_GT(m.lambda, 0.0);
  EXPECT_LT(m.lambda, 1.0);
  EXPECT_TRUE(torch::allclose(m.batch.inputs, batch.inputs * m.lambda + batch.inputs.flip(0) * (1 - m.lambda)));
  // Row 0 mixes example 0 (class 0) with example 5 (class 1); smoothing 0.1 over 4 classes.
  const double off = 0.1 / 4, on = 0.9 + off;
  const auto t = m.batch.targets;
  EXPECT_NEAR(t[0][0].item<double>(), m.lambda * on + (1 - m.lambda) * off, 1e-6);
  EXPECT_NEAR(t[0][1].item<double>(), m.lambda * off + (1 - m.lambda) * on, 1e-6);
  EXPECT_NEAR(t[0][2].item<double>(), off, 1e-6);
  EXPECT_TRUE(torch::allclose(t.sum(1), torch::ones({6})));
  // The same seed draws the same; another seed another lambda.
  EXPECT_EQ(mix_batch(batch, 4, 0.1, mixup_only(0.8), 42).lambda, m.lambda);
  EXPECT_NE(mix_batch(batch, 4, 0.1, mixup_only(0.8), 43).lambda, m.lambda);
}

TEST(Mixup, CutMixPastesABoxOfTheReversedBatchAndLambdaIsWhatTheBoxLeaves) {
  const data::Batch batch = image_batch(5);
  MixupOptions o;
  o.cutmix_alpha = 1.0;
  int boxes = 0;
  for (uint64_t seed = 0; seed < 50; ++seed) {
    const MixedBatch m = mix_batch(batch, 4, 0.0, o, seed);
    ASSERT_TRUE(m.cutmix);
    // Pixels equal to the reversed batch's where they differ from the original: the box.
    const torch::Tensor from_reversed = m.batch.inputs.eq(batch.inputs.flip(0)).logical_and(m.batch.inputs.ne(batch.inputs));
    const torch::Tensor from_own = m.batch.inputs.eq(batch.inputs);
    ASSERT_TRUE(from_reversed.logical_or(from_own).all().item<bool>()) << "seed " << seed;
    const double pasted = from_reversed[0][0].to(torch::kDouble).sum().item<double>();  // example 0, channel 0
    EXPECT_NEAR(1.0 - pasted / 80.0, m.lambda, 1e-12) << "seed " << seed;
    // Every channel of every example takes the same box (the middle example of an odd batch is
    // its own reverse: nothing changes there).
    EXPECT_EQ(from_reversed.sum().item<int64_t>(), static_cast<int64_t>(pasted) * 3 * 4) << "seed " << seed;
    boxes += pasted > 0;
    // Row 1 blends example 1 (class 1) with example 3 (class 3).
    EXPECT_NEAR(m.batch.targets[1][1].item<double>(), m.lambda, 1e-6);
    EXPECT_NEAR(m.batch.targets[1][3].item<double>(), 1 - m.lambda, 1e-6);
  }
  EXPECT_GT(boxes, 40);
}

TEST(Mixup, LambdaFollowsBetaAndTheSwitchShareHolds) {
  const data::Batch batch = image_batch(2);
  MixupOptions o;
  o.mixup_alpha = 0.8;
  o.cutmix_alpha = 1.0;
  o.switch_probability = 0.3;
  o.probability = 0.8;
  double sum = 0, sum2 = 0;
  int mixups = 0, cutmixes = 0, untouched = 0;
  constexpr int kDraws = 6000;
  for (uint64_t seed = 0; seed < kDraws; ++seed) {
    const MixedBatch m = mix_batch(batch, 4, 0.0, o, seed * 7919 + 1);
    if (!m.mixed) {
      ++untouched;
      EXPECT_EQ(m.lambda, 1.0);
      continue;
    }
    if (m.cutmix) {
      ++cutmixes;
      continue;
    }
    ++mixups;
    sum += m.lambda, sum2 += m.lambda * m.lambda;
  }
  // Shares: 20% untouched, 80% x 30% CutMix, 80% x 70% Mixup; binomial standard errors ~0.6%.
  EXPECT_NEAR(untouched / static_cast<double>(kDraws), 0.2, 0.025);
  EXPECT_NEAR(cutmixes / static_cast<double>(kDraws), 0.24, 0.025);
  // Beta(0.8, 0.8): mean 1/2, variance 1 / (4 (2 alpha + 1)) = 0.0962; over ~3,400 draws the
  // mean's standard error is 0.0053 and the variance's about 0.0015.
  const double mean = sum / mixups, variance = sum2 / mixups - mean * mean;
  EXPECT_NEAR(mean, 0.5, 0.02);
  EXPECT_NEAR(variance, 1.0 / (4 * (2 * 0.8 + 1)), 0.006);
}

TEST(Mixup, UnmixedBatchesKeepSmoothedOneHotTargets) {
  const data::Batch batch = image_batch(3);
  MixupOptions o = mixup_only(0.8);
  o.probability = 0.0;
  const MixedBatch m = mix_batch(batch, 4, 0.2, o, 1);
  EXPECT_FALSE(m.mixed);
  EXPECT_TRUE(torch::equal(m.batch.inputs, batch.inputs));
  EXPECT_NEAR(m.batch.targets[1][1].item<double>(), 0.8 + 0.05, 1e-6);
  EXPECT_NEAR(m.batch.targets[1][0].item<double>(), 0.05, 1e-6);
}

TEST(SoftTargetLoss, EqualsTheHardTargetLossOnOneHotRowsWithAndWithoutClassWeights) {
  torch::manual_seed(1);
  const torch::Tensor logits = torch::randn({7, 4});
  const torch::Tensor targets = torch::tensor({0, 1, 2, 3, 1, 1, 0}, torch::kInt64);
  const torch::Tensor one_hot = torch::one_hot(targets, 4).to(torch::kFloat32);
  const torch::Tensor weights = torch::tensor({0.5f, 2.0f, 1.0f, 3.0f});
  EXPECT_NEAR(classification_loss(logits, one_hot, 0.0).item<double>(), classification_loss(logits, targets, 0.0).item<double>(), 1e-6);
  EXPECT_NEAR(classification_loss(logits, one_hot, 0.0, weights).item<double>(),
              classification_loss(logits, targets, 0.0, weights).item<double>(), 1e-6);
  // Smoothed rows equal torch's label smoothing.
  const torch::Tensor smoothed = one_hot * 0.9 + 0.1 / 4;
  EXPECT_NEAR(classification_loss(logits, smoothed, 0.0).item<double>(), classification_loss(logits, targets, 0.1).item<double>(), 1e-6);
}

}  // namespace
}  // namespace stratum
