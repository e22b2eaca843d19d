#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

#include "models/next_token_loss.h"

namespace stratum {
namespace {

TEST(LanguageModeling, NextTokenLossScoresEachPositionAgainstTheFollowingTokenAndSkipsPadding) {
  torch::manual_seed(0);
  const int pad = 4;
  const torch::Tensor logits = torch::randn({2, 4, 5});
  const torch::Tensor tokens = torch::tensor({{1, 2, 3, 0}, {3, 1, pad, pad}}, torch::kInt64);
  // By hand: predictions at (b, t) for tokens[b][t+1] that are not padding.
  double sum = 0;
  int64_t count = 0, correct = 0;
  const torch::Tensor log_probs = torch::log_softmax(logits, -1);
  for (int64_t b = 0; b < 2; ++b) {
    for (int64_t t = 0; t + 1 < 4; ++t) {
      const int64_t target = tokens[b][t + 1].item<int64_t>();
      if (target == pad) continue;
      sum -= log_probs[b][t][target].item<double>();
      ++count;
      correct += logits[b][t].argmax().item<int64_t>() == target;
    }
  }
  const TokenLoss terms = next_token_loss_terms(logits, tokens, pad);
  EXPECT_EQ(terms.count.item<int64_t>(), 4);
  EXPECT_EQ(count, 4);
  EXPECT_EQ(terms.correct.item<int64_t>(), correct);
  EXPECT_NEAR(terms.sum.item<double>(), sum, 1e-5);
  EXPECT_NEAR(next_token_loss(logits, tokens, pad).item<double>(), sum / 4, 1e-6);
  // Per sequence, the same terms split by row.
  const TokenLoss rows = next_token_loss_per_sequence(logits, tokens, pad);
  EXPECT_EQ(rows.count[0].item<int64_t>(), 3);
  EXPECT_EQ(rows.count[1].item<int64_t>(), 1);
  EXPECT_EQ(rows.correct.sum().item<int64_t>(), correct);
  EXPECT_NEAR(rows.sum.sum().item<double>(), sum, 1e-5);
  EXPECT_NEAR(rows.sum[1].item<double>(), -log_probs[1][0][1].item<double>(), 1e-5);
  // Without a padding token every one of the 2 x 3 predictions counts.
  EXPECT_EQ(next_token_loss_terms(logits, tokens.clamp_max(3), -1).count.item<int64_t>(), 6);
}

}  // namespace
}  // namespace stratum
