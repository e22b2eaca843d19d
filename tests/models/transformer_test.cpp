#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "models/model_registry.h"
#include "core/torch_compat.h"
#include "models/attention.h"
#include "models/builtin_models.h"
#include "models/gpt.h"
#include "models/init.h"
#include "models/text_classifier.h"
#include "models/transformer_block.h"
#include "support/fixed_prefix.h"
#include "models/vit.h"
#include "tests/support/user_error.h"

namespace stratum::models {
namespace {

using ::testing::HasSubstr;

const ModelEntry& entry(const std::string& name) {
  static models::ModelRegistry registry = [] {
    models::ModelRegistry r{"model"};
    register_builtin_models(r);
    return r;
  }();
  return *registry.find(name);
}

ModelPtr build(const std::string& name, const models::ModelOptions& options, const data::DataSpec& spec) {
  return entry(name).build(options, spec);
}

data::DataSpec tokens(int64_t length, int64_t classes = 0) { return data::byte_token_spec(length, classes); }

data::DataSpec images(int64_t channels, int64_t side, int64_t classes) {
  data::DataSpec spec;
  spec.input_shape = {channels, side, side};
  spec.num_classes = classes;
  return spec;
}

models::ModelOptions no_dropout() {
  models::ModelOptions options;
  options.dropout = 0.0;
  return options;
}

TEST(TransformerModels, ReferenceSizesHaveTheExactPublishedParameterCounts) {
  torch::NoGradGuard no_grad;
  const std::vector<std::pair<std::string, int64_t>> expected = {
      {"gpt-125m", 124439808}, {"gpt-350m", 354823168}, {"vit-s16", 22050664}};
  for (const auto& [name, count] : expected) {
    const ModelEntry& e = entry(name);
    EXPECT_EQ(e.parameter_count(e.reference_options, e.reference_spec), count) << name;
    EXPECT_EQ(count_parameters(*e.build(e.reference_options, e.reference_spec)), count) << name;
  }
}

TEST(TransformerModels, CountWithoutBuildingMatchesTheBuiltModelForEveryShape) {
  models::ModelOptions rotary = no_dropout();
  rotary.positions = models::PositionEncoding::rotary;
  models::ModelOptions custom = no_dropout();
  custom.layers = 3;
  custom.width = 48;
  custom.heads = 6;
  custom.mlp_hidden = 100;
  const std::vector<std::tuple<std::string, models::ModelOptions, data::DataSpec>> cases = {
      {"gpt-tiny", no_dropout(), tokens(32)},      {"gpt-tiny", rotary, tokens(32)},
      {"gpt-tiny", custom, tokens(40)},            {"text-classifier", custom, tokens(24, 7)},
      {"text-classifier", rotary, tokens(24, 3)},  {"vit-tiny", no_dropout(), images(1, 28, 10)},
      {"vit-tiny", rotary, images(3, 16, 5)},
  };
  for (const auto& [name, options, spec] : cases) {
    EXPECT_EQ(entry(name).parameter_count(options, spec), count_parameters(*build(name, options, spec))) << name;
  }
}

TEST(TransformerModels, GptIsCausal) {
  torch::manual_seed(0);
  auto model = build("gpt-tiny", no_dropout(), tokens(12));
  model->eval();
  EXPECT_TRUE(model->is_language_model());
  const torch::Tensor a = torch::randint(0, 256, {2, 12}, torch::kInt64);
  torch::Tensor b = a.clone();
  b.narrow(1, 8, 4).random_(0, 256);  // change only the last four tokens
  const torch::Tensor la = model->forward({a, {}}), lb = model->forward({b, {}});
  EXPECT_EQ(la.sizes(), (std::vector<int64_t>{2, 12, 257}));
  EXPECT_TRUE(torch::allclose(la.narrow(1, 0, 8), lb.narrow(1, 0, 8), 1e-5, 1e-6));
  EXPECT_FALSE(torch::allclose(la.narrow(1, 8, 4), lb.narrow(1, 8, 4)));
}

TEST(TransformerModels, GptOutputProjectionIsTiedToTheTokenEmbedding) {
  auto model = std::dynamic_pointer_cast<GPT>(build("gpt-tiny", no_dropout(), tokens(8)));
  const torch::Tensor input = torch::randint(0, 256, {1, 8}, torch::kInt64);
  model->forward({input, {}}).sum().backward();
  // One matrix receives both the embedding and the output-projection gradient.
  EXPECT_TRUE(model->token_embedding->weight.grad().defined());
  EXPECT_EQ(count_parameters(*model) - count_parameters(*model->blocks) - 2 * 64 - 8 * 64, 257 * 64);
}

TEST(TransformerModels, TextClassifierIgnoresPadding) {
  torch::manual_seed(1);
  auto model = build("text-classifier", no_dropout(), tokens(16, 4));
  model->eval();
  torch::Tensor text = torch::full({1, 16}, 256, torch::kInt64);
  text.narrow(1, 0, 5).copy_(torch::tensor({{72, 101, 108, 108, 111}}));
  torch::Tensor shorter = text.narrow(1, 0, 10).contiguous();  // fewer padding positions
  const torch::Tensor a = model->forward({text, {}}), b = model->forward({shorter, {}});
  EXPECT_EQ(a.sizes(), (std::vector<int64_t>{1, 4}));
  EXPECT_TRUE(torch::allclose(a, b, 1e-5, 1e-6));
  // A record with no text at all still gives finite logits.
  EXPECT_TRUE(torch::isfinite(model->forward({torch::full({2, 16}, 256, torch::kInt64), {}})).all().item<bool>());
}

TEST(TransformerModels, VitClassifiesImagesAndEveryParameterLearns) {
  auto model = std::dynamic_pointer_cast<ViT>(build("vit-tiny", no_dropout(), images(1, 28, 10)));
  const torch::Tensor logits = model->forward({torch::randn({3, 1, 28, 28}), {}});
  EXPECT_EQ(logits.sizes(), (std::vector<int64_t>{3, 10}));
  EXPECT_EQ(model->pos_embed.sizes(), (std::vector<int64_t>{1, 50, 64}));  // 7x7 patches + class token
  logits.pow(2).sum().backward();
  for (const auto& p : model->named_parameters()) {
    ASSERT_TRUE(p.value().grad().defined()) << p.key();
    EXPECT_GT(p.value().grad().abs().sum().item<double>(), 0) << p.key();
  }
}

TEST(TransformerModels, ShapeProblemsNameTheConfigKey) {
  using stratum::testing::user_error;
  EXPECT_THAT(user_error([] { build("vit-s16", no_dropout(), images(1, 28, 10)); }),
              HasSubstr("model.image_size: 224, but the data's images are 28x28"));
  models::ModelOptions odd = no_dropout();
  odd.patch_size = 5;
  EXPECT_THAT(user_error([&] { build("vit-tiny", odd, images(1, 28, 10)); }),
              HasSubstr("model.patch_size: 5 does not divide model.image_size 28"));
  models::ModelOptions heads = no_dropout();
  heads.heads = 5;
  EXPECT_THAT(user_error([&] { build("gpt-tiny", heads, tokens(8)); }), HasSubstr("model.heads: 5 does not divide"));
  EXPECT_THAT(user_error([] { build("gpt-tiny", no_dropout(), images(1, 28, 10)); }),
              HasSubstr("gpt needs token sequences"));
  models::ModelOptions short_context = no_dropout();
  short_context.context = 8;
  EXPECT_THAT(user_error([&] { build("gpt-tiny", short_context, tokens(16)); }), HasSubstr("model.context: 8 positions"));
  models::ModelOptions small_vocab = no_dropout();
  small_vocab.vocab_size = 100;
  EXPECT_THAT(user_error([&] { build("gpt-tiny", small_vocab, tokens(16)); }), HasSubstr("model.vocab_size: 100"));
  EXPECT_THAT(user_error([] { build("text-classifier", no_dropout(), tokens(16, 0)); }),
              HasSubstr("needs a labeled (classification) data source"));
}

TEST(TransformerModels, InitialisationFollowsTheReferences) {
  torch::manual_seed(2);
  models::ModelOptions wide = no_dropout();
  wide.width = 256;
  wide.heads = 4;
  wide.mlp_hidden = 1024;
  wide.layers = 8;
  auto gpt = std::dynamic_pointer_cast<GPT>(build("gpt-tiny", wide, tokens(16)));
  auto block = gpt->blocks->ptr(0)->as<TransformerBlock>();
  EXPECT_NEAR(block->attn->qkv->weight.std().item<double>(), 0.02, 0.0005);
  EXPECT_NEAR(block->mlp->fc2->weight.std().item<double>(), 0.02 / std::sqrt(16.0), 0.0002);
  EXPECT_NEAR(block->attn->proj->weight.std().item<double>(), 0.02 / std::sqrt(16.0), 0.0002);
  EXPECT_EQ(block->attn->qkv->bias.abs().max().item<double>(), 0.0);
  EXPECT_NEAR(gpt->token_embedding->weight.std().item<double>(), 0.02, 0.0005);

  torch::Tensor t = torch::empty({200000});
  truncated_normal_(t, 0.02);
  EXPECT_LE(t.abs().max().item<double>(), 0.04 + 1e-9);
  EXPECT_NEAR(t.std().item<double>(), 0.02 * 0.8796, 0.0003);  // std of N(0,1) truncated at ±2
  EXPECT_NEAR(t.mean().item<double>(), 0.0, 0.0003);
}

float max_difference(const torch::Tensor& a, const torch::Tensor& b) { return (a - b).abs().max().item<float>(); }

// A fixed prefix, so attention with it can be compared with explicit concatenation.
using stratum::testing::FixedPrefix;

// softmax(q [pk; k]ᵀ / √d) [pv; v] written out: query i sees every prefix position, and key j
// when j <= i (causal) and j is a real token.
torch::Tensor explicit_prefix_attention(MultiHeadAttention& attention, const torch::Tensor& x,
                                        const torch::Tensor& pk, const torch::Tensor& pv, bool causal,
                                        const torch::Tensor& keep) {
  const int64_t B = x.size(0), T = x.size(1), W = x.size(2), H = attention.heads(), D = W / H, P = pk.size(2);
  const torch::Tensor qkv = torch::matmul(x, attention.qkv->weight.t()) + attention.qkv->bias;
  const auto heads = [&](const torch::Tensor& t) { return t.view({B, T, H, D}).permute({0, 2, 1, 3}); };
  const torch::Tensor q = heads(qkv.narrow(2, 0, W)), k = heads(qkv.narrow(2, W, W)), v = heads(qkv.narrow(2, 2 * W, W));
  const torch::Tensor keys = torch::cat({pk.expand({B, H, P, D}), k}, 2);
  const torch::Tensor values = torch::cat({pv.expand({B, H, P, D}), v}, 2);
  torch::Tensor scores = torch::matmul(q, keys.transpose(2, 3)) / std::sqrt(static_cast<double>(D));
  torch::Tensor allowed = torch::ones({B, 1, T, P + T}, torch::kBool);
  for (int64_t b = 0; b < B; ++b) {
    for (int64_t i = 0; i < T; ++i) {
      for (int64_t j = 0; j < T; ++j) {
        const bool visible = (!causal || j <= i) && (!keep.defined() || keep[b][j].item<bool>() || j == 0);
        allowed[b][0][i][P + j] = visible;
      }
    }
  }
  scores = scores.masked_fill(allowed.logical_not(), -INFINITY);
  const torch::Tensor out = torch::matmul(torch::softmax(scores, -1), values);
  return torch::matmul(out.permute({0, 2, 1, 3}).reshape({B, T, W}), attention.proj->weight.t()) + attention.proj->bias;
}

TEST(Attention, PrefixEqualsAttentionOverConcatenatedKeysAndValuesCausalAndPaddingIncluded) {
  TransformerShape shape;
  shape.width = 32, shape.heads = 4;
  torch::manual_seed(1);
  const torch::Tensor pk = torch::randn({1, 4, 3, 8}), pv = torch::randn({1, 4, 3, 8});
  const torch::Tensor x = torch::randn({2, 5, 32});
  const torch::Tensor keep = torch::tensor({1, 1, 1, 1, 1, 1, 1, 0, 0, 0}, torch::kBool).view({2, 5});
  for (const bool causal : {true, false}) {
    for (const bool fused : {false, true}) {
      if (fused && !compat::has_fused_attention()) continue;
      MultiHeadAttention attention(shape, causal);
      attention.eval();
      attention.set_use_fused(fused);
      attention.set_prefix(std::make_shared<FixedPrefix>(pk, pv));
      torch::NoGradGuard no_grad;
      EXPECT_LT(max_difference(attention.forward(x), explicit_prefix_attention(attention, x, pk, pv, causal, {})), 1e-5)
          << "causal " << causal << " fused " << fused;
      EXPECT_LT(max_difference(attention.forward(x, keep), explicit_prefix_attention(attention, x, pk, pv, causal, keep)),
                1e-5)
          << "with padding, causal " << causal << " fused " << fused;
      // The prefix changes what the first token sees (it is not silently dropped).
      const torch::Tensor with = attention.forward(x);
      attention.set_prefix(nullptr);
      EXPECT_GT(max_difference(attention.forward(x).select(1, 0), with.select(1, 0)), 1e-3);
      EXPECT_EQ(count_parameters(attention), 4 * 32 * 32 + 4 * 32);
    }
  }
}

TEST(Attention, FusedKernelAgreesWithExplicitMath) {
  if (!compat::has_fused_attention()) {
    // LibTorch 1.x: the kernel is refused outright, so attention can only take the math path
    // (the comparison below runs in build-cuda/, against LibTorch 2.x).
    const torch::Tensor q = torch::randn({1, 1, 2, 4});
    EXPECT_THROW(compat::fused_attention(q, q, q, {}, 0.0, false), std::logic_error);
    return;
  }
  torch::manual_seed(4);
  for (const bool causal : {true, false}) {
    TransformerShape shape;
    MultiHeadAttention attention(shape, causal);
    attention.eval();
    const torch::Tensor x = torch::randn({3, 9, shape.width});
    torch::Tensor keep = torch::ones({3, 9}, torch::kBool);
    keep.narrow(1, 6, 3).select(0, 1).fill_(false);
    for (const torch::Tensor& mask : {torch::Tensor(), keep}) {
      attention.set_use_fused(true);
      const torch::Tensor fused = attention.forward(x, mask);
      attention.set_use_fused(false);
      const torch::Tensor math = attention.forward(x, mask);
      EXPECT_TRUE(torch::allclose(fused, math, 1e-5, 1e-5)) << "causal=" << causal;
    }
  }
}

TEST(Attention, RotaryPositionsMakeScoresDependOnlyOnRelativeDistance) {
  torch::manual_seed(5);
  const torch::Tensor q = torch::randn({1, 1, 1, 8}).expand({1, 1, 10, 8});
  const torch::Tensor k = torch::randn({1, 1, 1, 8}).expand({1, 1, 10, 8});
  const torch::Tensor scores = torch::matmul(apply_rotary(q), apply_rotary(k).transpose(-2, -1)).squeeze();
  for (int64_t m = 0; m + 3 < 10; ++m) {
    EXPECT_NEAR(scores[m + 3][m].item<double>(), scores[3][0].item<double>(), 1e-5);
    EXPECT_NEAR(scores[m][m].item<double>(), scores[0][0].item<double>(), 1e-5);
  }
  EXPECT_GT(std::abs(scores[3][0].item<double>() - scores[0][0].item<double>()), 1e-4);
}

}  // namespace
}  // namespace stratum::models
