// Scoring multiple-choice endings: each ending's log-likelihood given the context, the same
// whether it is scored alone or next to longer endings (right padding), and computed from the
// most recent context tokens when the sequence is longer than the model's positions.

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "models/choice_scoring.h"
#include "models/gpt.h"

namespace stratum::models {
namespace {

std::shared_ptr<GPT> tiny_gpt() {
  torch::manual_seed(9);
  TransformerShape shape = gpt_preset("tiny");
  shape.layers = 2, shape.width = 32, shape.heads = 4, shape.mlp_hidden = 64, shape.vocab_size = 40;
  shape.context = 16, shape.dropout = 0.0;
  return std::make_shared<GPT>(shape);
}

// Σ log p(sequence[t] | sequence[< t]) for t from `first`, from one forward pass of `sequence`.
double manual_sum(GPT& model, const std::vector<int64_t>& sequence, size_t first) {
  torch::NoGradGuard no_grad;
  model.eval();
  data::Batch batch;
  batch.inputs = torch::tensor(sequence, torch::kLong).unsqueeze(0);
  const torch::Tensor log_probs = torch::log_softmax(model.forward(batch).to(torch::kFloat64), -1)[0];
  double sum = 0;
  for (size_t t = first; t < sequence.size(); ++t) sum += log_probs[static_cast<int64_t>(t) - 1][sequence[t]].item<double>();
  return sum;
}

TEST(ChoiceScoring, EachEndingsLogLikelihoodAloneOrPadded) {
  auto model = tiny_gpt();
  const std::vector<int64_t> context = {3, 1, 4, 1, 5};
  const std::vector<std::vector<int64_t>> endings = {{9, 2}, {6, 5, 3, 5, 8}, {7}};
  const std::vector<EndingScore> scores = score_endings(*model, context, endings, /*pad_token=*/39, 16);
  ASSERT_EQ(scores.size(), 3u);
  for (size_t i = 0; i < endings.size(); ++i) {
    std::vector<int64_t> sequence = context;
    sequence.insert(sequence.end(), endings[i].begin(), endings[i].end());
    EXPECT_NEAR(scores[i].sum, manual_sum(*model, sequence, context.size()), 1e-5) << "ending " << i;  // float32 forward, batched or not
    EXPECT_EQ(scores[i].tokens, static_cast<int64_t>(endings[i].size()));
    EXPECT_NEAR(scores[i].mean(), scores[i].sum / static_cast<double>(endings[i].size()), 1e-12);
    EXPECT_NEAR(score_endings(*model, context, {endings[i]}, 39, 16)[0].sum, scores[i].sum, 1e-5) << "alone, ending " << i;
  }
}

TEST(ChoiceScoring, ALongContextLosesItsOldestTokens) {
  auto model = tiny_gpt();
  std::vector<int64_t> context;
  for (int64_t i = 0; i < 14; ++i) context.push_back((i * 7 + 2) % 39);
  const std::vector<int64_t> ending = {11, 12, 13, 14};
  // 18 tokens, 16 positions: the context keeps its last 12.
  const EndingScore score = score_endings(*model, context, {ending}, 39, 16)[0];
  std::vector<int64_t> kept(context.end() - 12, context.end());
  kept.insert(kept.end(), ending.begin(), ending.end());
  EXPECT_NEAR(score.sum, manual_sum(*model, kept, 12), 1e-9);
  EXPECT_EQ(score.tokens, 4);
}

}  // namespace
}  // namespace stratum::models
