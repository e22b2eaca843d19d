// Decoding with a key/value cache: the cached forward pass gives the training forward pass's
// logits (learned and rotary positions, prefixes, left padding), token by token as well as at
// once; generation with and without the cache, alone and batched, chooses the same tokens; and
// the sampling rule draws from the filtered softmax.

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <random>

#include "models/attention.h"
#include "models/decoder.h"
#include "models/generation.h"
#include "models/gpt.h"
#include "models/transformer_block.h"
#include "support/fixed_prefix.h"

namespace stratum::models {
namespace {

constexpr double kTolerance = 1e-5;

double max_difference(const torch::Tensor& a, const torch::Tensor& b) { return (a - b).abs().max().item<double>(); }

std::shared_ptr<GPT> tiny_gpt(Positions positions, int64_t context = 40) {
  torch::manual_seed(3);
  TransformerShape shape = gpt_preset("tiny");
  shape.layers = 2, shape.width = 32, shape.heads = 4, shape.mlp_hidden = 64, shape.vocab_size = 50;
  shape.context = context, shape.dropout = 0.0, shape.positions = positions;
  auto model = std::make_shared<GPT>(shape);
  model->eval();
  return model;
}

torch::Tensor row_tokens(int64_t length, int64_t salt) {
  return (torch::arange(length, torch::kInt64) * (7 + salt) + 3 * salt + 1) % 50;
}

// The training forward pass of one unpadded row: (1, T, V).
torch::Tensor reference_logits(GPT& model, const torch::Tensor& tokens) {
  data::Batch batch;
  batch.inputs = tokens.unsqueeze(0);
  return model.forward(batch);
}

class Decoding : public ::testing::TestWithParam<Positions> {};

TEST_P(Decoding, CachedForwardMatchesTheTrainingForwardAtOnceAndTokenByToken) {
  torch::NoGradGuard no_grad;
  auto model = tiny_gpt(GetParam());
  const torch::Tensor tokens = row_tokens(12, 0);
  const torch::Tensor expected = reference_logits(*model, tokens);

  KeyValueCache whole;
  const torch::Tensor positions = torch::arange(12, torch::kInt64).unsqueeze(0);
  const torch::Tensor keep = torch::ones({1, 12}, torch::kBool);
  EXPECT_LT(max_difference(model->forward_cached(tokens.unsqueeze(0), positions, keep, whole), expected), kTolerance);
  EXPECT_EQ(whole.length(), 12);

  // Five tokens, then one at a time: every step's logits are the full pass's at that position.
  KeyValueCache cache;
  torch::Tensor first = model->forward_cached(tokens.narrow(0, 0, 5).unsqueeze(0), positions.narrow(1, 0, 5),
                                              keep.narrow(1, 0, 5), cache);
  EXPECT_LT(max_difference(first, expected.narrow(1, 0, 5)), kTolerance);
  for (int64_t t = 5; t < 12; ++t) {
    const torch::Tensor step = model->forward_cached(tokens.narrow(0, t, 1).unsqueeze(0), positions.narrow(1, t, 1),
                                                     keep.narrow(1, 0, t + 1), cache);
    EXPECT_LT(max_difference(step, expected.narrow(1, t, 1)), kTolerance) << "position " << t;
  }
  EXPECT_EQ(cache.length(), 12);
}

TEST_P(Decoding, LeftPaddedRowsGiveEachRowsOwnLogits) {
  torch::NoGradGuard no_grad;
  auto model = tiny_gpt(GetParam());
  const torch::Tensor a = row_tokens(9, 1), b = row_tokens(4, 2);
  // Row b is padded on the left by 5 (pad id 49): positions restart at its first real token.
  const torch::Tensor tokens = torch::stack({a, torch::cat({torch::full({5}, 49, torch::kInt64), b})});
  const torch::Tensor positions =
      torch::stack({torch::arange(9, torch::kInt64), torch::cat({torch::zeros({5}, torch::kInt64), torch::arange(4, torch::kInt64)})});
  const torch::Tensor keep = torch::stack({torch::ones({9}, torch::kBool), torch::arange(9).ge(5)});
  KeyValueCache cache;
  const torch::Tensor logits = model->forward_cached(tokens, positions, keep, cache);
  EXPECT_LT(max_difference(logits.select(0, 0).unsqueeze(0), reference_logits(*model, a)), kTolerance);
  EXPECT_LT(max_difference(logits.select(0, 1).narrow(0, 5, 4).unsqueeze(0), reference_logits(*model, b)), kTolerance);
  EXPECT_FALSE(logits.isnan().any().item<bool>()) << "padding positions attend to themselves, never to nothing";
}

INSTANTIATE_TEST_SUITE_P(Positions, Decoding, ::testing::Values(Positions::learned, Positions::rotary),
                         [](const auto& info) { return info.param == Positions::learned ? "Learned" : "Rotary"; });

// A prefix every position may attend to (prefix-tuning): cached decoding sees it at every step.
using stratum::testing::FixedPrefix;

TEST(Decoding, APrefixIsSeenAtEveryStep) {
  torch::NoGradGuard no_grad;
  auto model = tiny_gpt(Positions::learned);
  for (const auto& block : *model->blocks) {
    block->as<TransformerBlock>()->attn->set_prefix(
        std::make_shared<FixedPrefix>(torch::randn({1, 4, 3, 8}), torch::randn({1, 4, 3, 8})));
  }
  const torch::Tensor tokens = row_tokens(8, 4);
  const torch::Tensor expected = reference_logits(*model, tokens);
  KeyValueCache cache;
  const torch::Tensor keep = torch::ones({1, 8}, torch::kBool);
  const torch::Tensor positions = torch::arange(8, torch::kInt64).unsqueeze(0);
  model->forward_cached(tokens.narrow(0, 0, 3).unsqueeze(0), positions.narrow(1, 0, 3), keep.narrow(1, 0, 3), cache);
  for (int64_t t = 3; t < 8; ++t) {
    const torch::Tensor step = model->forward_cached(tokens.narrow(0, t, 1).unsqueeze(0), positions.narrow(1, t, 1),
                                                     keep.narrow(1, 0, t + 1), cache);
    EXPECT_LT(max_difference(step, expected.narrow(1, t, 1)), kTolerance) << "position " << t;
  }
}

TEST(Generation, CacheOrNotAloneOrBatchedTheSameGreedyTokens) {
  for (const Positions positions : {Positions::learned, Positions::rotary}) {
    auto model = tiny_gpt(positions);
    const std::vector<std::vector<int64_t>> prompts = {{1, 2, 3, 4, 5, 6, 7}, {9}, {11, 12, 13}};
    GenerationOptions options;
    options.max_new_tokens = 20;
    options.pad_token = 49;
    const std::vector<Generation> cached = models::generate(*model, prompts, options);
    options.use_cache = false;
    const std::vector<Generation> uncached = models::generate(*model, prompts, options);
    options.use_cache = true;
    for (size_t i = 0; i < prompts.size(); ++i) {
      const std::vector<Generation> alone = models::generate(*model, {prompts[i]}, options);
      EXPECT_EQ(cached[i].tokens.size(), 20u);
      EXPECT_EQ(cached[i].finish, "length");
      EXPECT_EQ(cached[i].tokens, uncached[i].tokens) << "prompt " << i;
      EXPECT_EQ(cached[i].tokens, alone[0].tokens) << "prompt " << i;
    }
    // Greedy is the argmax of the full forward pass at every step.
    std::vector<int64_t> sequence = prompts[0];
    for (int64_t token : cached[0].tokens) {
      torch::NoGradGuard no_grad;
      const torch::Tensor logits = reference_logits(*model, torch::tensor(sequence, torch::kInt64));
      EXPECT_EQ(logits.select(1, logits.size(1) - 1).argmax(-1).item<int64_t>(), token);
      sequence.push_back(token);
    }
  }
}

TEST(Generation, StopsAtTheEndTokenTheCallersWordOrTheContext) {
  auto model = tiny_gpt(Positions::learned, /*context=*/12);
  GenerationOptions options;
  options.max_new_tokens = 30;
  const std::vector<Generation> free = models::generate(*model, {{1, 2, 3}}, options);
  EXPECT_EQ(free[0].finish, "context");
  EXPECT_EQ(free[0].tokens.size(), 10u);  // positions 3..11 are read; the token predicted at 11 ends it
  options.end_token = free[0].tokens[4];
  const std::vector<Generation> ended = models::generate(*model, {{1, 2, 3}}, options);
  EXPECT_EQ(ended[0].finish, "end");
  EXPECT_EQ(ended[0].tokens.back(), options.end_token);
  options.end_token = -1;
  int seen = 0;
  const std::vector<Generation> stopped = models::generate(*model, {{1, 2, 3}, {4}}, options, [&](size_t row, int64_t) {
    return row == 1 && ++seen == 2;
  });
  EXPECT_EQ(stopped[1].finish, "stop");
  EXPECT_EQ(stopped[1].tokens.size(), 2u);
  EXPECT_EQ(stopped[0].tokens, free[0].tokens) << "another row's stop does not change this one";
}

TEST(Sampling, GreedyTopKAndTopPKeepTheMostLikely) {
  const std::vector<double> logits = {0.5, 2.0, 2.0, -1.0};
  GenerationOptions greedy;
  EXPECT_EQ(choose_token(logits, greedy, 0.99), 1);  // the first maximum
  GenerationOptions sample;
  sample.temperature = 1;
  sample.top_k = 1;
  EXPECT_EQ(choose_token(logits, sample, 0.99), 1);
  sample.top_k = 0;
  sample.top_p = 1e-9;
  EXPECT_EQ(choose_token(logits, sample, 0.99), 1);
  sample.top_p = 1;
  sample.top_k = 2;
  for (double u = 0; u < 1; u += 0.01) EXPECT_THAT(choose_token(logits, sample, u), ::testing::AnyOf(1, 2));
}

// Draw frequencies against the filtered, tempered softmax, over many seeds: each within 5
// standard errors (a wrong temperature, cut-off or normaliser fails by far more).
TEST(Sampling, DrawsFollowTheTemperedFilteredSoftmax) {
  const std::vector<double> logits = {1.0, 0.2, -0.5, 1.6, -2.0};
  struct Case {
    double temperature, top_p;
    int64_t top_k;
  };
  for (const Case c : {Case{1.0, 1.0, 0}, Case{0.5, 1.0, 0}, Case{2.0, 1.0, 3}, Case{1.0, 0.8, 0}}) {
    GenerationOptions options;
    options.temperature = c.temperature, options.top_p = c.top_p, options.top_k = c.top_k;
    // Expected: sort, keep top-k, then the smallest prefix reaching top_p of the kept mass.
    std::vector<size_t> order = {3, 0, 1, 2, 4};
    const size_t k = c.top_k > 0 ? static_cast<size_t>(c.top_k) : order.size();
    std::vector<double> p(logits.size(), 0.0);
    double total = 0;
    for (size_t i = 0; i < k; ++i) total += std::exp(logits[order[i]] / c.temperature);
    double cumulative = 0, kept = 0;
    for (size_t i = 0; i < k && cumulative < c.top_p; ++i) {
      const double share = std::exp(logits[order[i]] / c.temperature) / total;
      p[order[i]] = share;
      cumulative += share;
      kept += share;
    }
    for (double& v : p) v /= kept;
    std::mt19937_64 stream(17);
    std::vector<int64_t> counts(logits.size(), 0);
    const int draws = 40000;
    for (int i = 0; i < draws; ++i) ++counts[static_cast<size_t>(choose_token(logits, options, static_cast<double>(stream() >> 11) * 0x1.0p-53))];
    for (size_t t = 0; t < logits.size(); ++t) {
      const double share = static_cast<double>(counts[t]) / draws;
      const double error = std::sqrt(std::max(p[t] * (1 - p[t]), 1e-12) / draws);
      EXPECT_LE(std::abs(share - p[t]), 5 * error + 1e-12)
          << "token " << t << " at temperature " << c.temperature << ", top_p " << c.top_p << ", top_k " << c.top_k;
    }
  }
}

}  // namespace
}  // namespace stratum::models
