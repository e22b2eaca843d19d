// Quantized frozen weights: the NF4 / int4 / int8 formats against values computed by hand,
// their memory, and quantized linear layers in forward and backward passes, with LoRA on top.

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "adapters/lora.h"
#include "adapters/quant/blockwise.h"
#include "adapters/quant/blockwise_weight.h"
#include "adapters/quant/int8_weight.h"
#include "adapters/quant/quantize_model.h"
#include "models/model_facts.h"
#include "models/builtin_models.h"
#include "support/temp_dir.h"
#include "support/tiny_models.h"
#include "support/user_error.h"

namespace stratum::adapters::quant {
namespace {

using ::testing::HasSubstr;

float max_difference(const torch::Tensor& a, const torch::Tensor& b) { return (a - b).abs().max().item<float>(); }

TEST(Nf4, CodeBookIsThePublishedOne) {
  const torch::Tensor book = nf4_codebook();
  ASSERT_EQ(book.size(0), 16);
  EXPECT_FLOAT_EQ(book[0].item<float>(), -1.0f);
  EXPECT_FLOAT_EQ(book[7].item<float>(), 0.0f);
  EXPECT_FLOAT_EQ(book[15].item<float>(), 1.0f);
  EXPECT_FLOAT_EQ(book[1].item<float>(), -0.6961928009986877f);  // QLoRA appendix E
  EXPECT_FLOAT_EQ(book[8].item<float>(), 0.07958029955625534f);
  EXPECT_TRUE(torch::equal(std::get<0>(book.sort()), book));
}

TEST(Nf4, QuantizesBlockwiseToTheNearestCodeByHand) {
  // One block of 64: absmax 2, so value v normalises to v / 2. Worked by hand:
  //   2.0 -> 1.0 (15); -2.0 -> -1 (0); 0.0 -> 0 (7); 0.16 -> 0.08: nearest 0.0796 (8);
  //   0.0795 -> 0.03975, below the 0 / 0.0796 midpoint 0.03979 -> 0 (7);
  //   0.0797 -> 0.03985, above it -> 8; -0.5 -> -0.25: between -0.2844 and -0.1848, midpoint
  //   -0.2346, -0.25 is below -> -0.2844 (4); 1.2 -> 0.6: nearest 0.5626 (13).
  std::vector<float> values(64, 0.0f);
  const std::vector<std::pair<float, int>> cases = {{2.0f, 15}, {-2.0f, 0},  {0.0f, 7},   {0.16f, 8},
                                                   {0.0795f, 7}, {0.0797f, 8}, {-0.5f, 4}, {1.2f, 13}};
  for (size_t i = 0; i < cases.size(); ++i) values[i] = cases[i].first;
  const BlockwiseCodes q = quantize_blockwise(torch::tensor(values), nf4_codebook(), 64);
  ASSERT_EQ(q.absmax.size(0), 1);
  EXPECT_FLOAT_EQ(q.absmax[0].item<float>(), 2.0f);
  for (size_t i = 0; i < cases.size(); ++i) EXPECT_EQ(q.codes[i].item<int>(), cases[i].second) << "value " << cases[i].first;
  // Dequantized: code value times absmax.
  const torch::Tensor back = dequantize_blockwise(q.codes, q.absmax, nf4_codebook(), 64, 64);
  EXPECT_FLOAT_EQ(back[3].item<float>(), 2.0f * 0.07958029955625534f);
  EXPECT_FLOAT_EQ(back[6].item<float>(), 2.0f * -0.28444138169288635f);
}

TEST(Nf4, BlocksHaveTheirOwnAbsmaxIncludingAShortLastBlock) {
  const torch::Tensor values = torch::cat({torch::full({64}, 0.5f), torch::full({64}, -3.0f), torch::full({10}, 7.0f)});
  const BlockwiseCodes q = quantize_blockwise(values, nf4_codebook(), 64);
  ASSERT_EQ(q.absmax.size(0), 3);
  EXPECT_TRUE(torch::equal(q.absmax, torch::tensor({0.5f, 3.0f, 7.0f})));
  EXPECT_TRUE(torch::equal(dequantize_blockwise(q.codes, q.absmax, nf4_codebook(), 64, 138), values));
}

TEST(Nf4, PacksTwoCodesPerByteHighNibbleFirst) {
  const torch::Tensor codes = torch::tensor({1, 2, 15, 0, 7}, torch::kUInt8);
  const torch::Tensor packed = pack_nibbles(codes, 7);
  EXPECT_TRUE(torch::equal(packed, torch::tensor({0x12, 0xF0, 0x77}, torch::kUInt8)));
  EXPECT_TRUE(torch::equal(unpack_nibbles(packed, 5), codes));
}

TEST(Int4, RoundsToSeventhsOfTheBlockAbsmax) {
  // absmax 7: value v -> round(v), clamped to [-7, 7]; index = k + 8.
  std::vector<float> values = {7.0f, -7.0f, 0.4f, 0.6f, -3.2f, 2.5f};
  values.resize(128, 0.0f);
  const BlockwiseCodes q = quantize_blockwise(torch::tensor(values), int4_codebook(), 128);
  const std::vector<int> expected = {15, 1, 8, 9, 5, 10};  // 2.5: tie, goes to the lower (2)
  for (size_t i = 0; i < expected.size(); ++i) EXPECT_EQ(q.codes[i].item<int>(), expected[i]) << values[i];
}

TEST(DoubleQuantization, DynamicCodeBookIsBitsandbytesCreateDynamicMap) {
  const torch::Tensor book = dynamic_codebook();
  ASSERT_EQ(book.size(0), 256);
  EXPECT_FLOAT_EQ(book[0].item<float>(), -0.9929687f);  // -(0.985..1 midpoint) of the last exponent
  EXPECT_FLOAT_EQ(book[255].item<float>(), 1.0f);
  EXPECT_EQ((book == 0).sum().item<int64_t>(), 1);
  EXPECT_TRUE(torch::equal(std::get<0>(book.sort()), book));
}

TEST(Quantization, BytesPerWeightOnGpt125mShapedLayers) {
  // The four layer shapes of gpt-125m (qkv, proj, fc1, fc2), scales included.
  torch::manual_seed(0);
  for (const auto& [out, in] : std::vector<std::pair<int64_t, int64_t>>{{2304, 768}, {768, 768}, {3072, 768}, {768, 3072}}) {
    const torch::Tensor w = torch::randn({out, in}) * 0.02;
    const double weights = static_cast<double>(out * in);
    EXPECT_LE(Int8Weight(w).bytes() / weights, 1.02);
    EXPECT_LE(BlockwiseWeight(w, "nf4", 64, true).bytes() / weights, 0.52);
    EXPECT_LE(BlockwiseWeight(w, "int4", 128, true).bytes() / weights, 0.52);
    EXPECT_GT(BlockwiseWeight(w, "nf4", 64, false).bytes() / weights, 0.56);  // fp32 absmax: 0.5 + 4/64
  }
}

TEST(Quantization, ErrorsStayWithinHalfAStepOfEachFormat) {
  torch::manual_seed(1);
  const torch::Tensor w = torch::randn({96, 200});
  // int8: |w - ŵ| <= scale / 2 per row.
  const Int8Weight int8(w);
  EXPECT_TRUE(((int8.unpack(torch::kFloat32) - w).abs() <= (int8.scales / 2 + 1e-6).unsqueeze(1)).all().item<bool>());
  // nf4 without double quantization: at most half the widest gap of the code book (-1 ..
  // -0.6962) times the block absmax.
  const BlockwiseWeight nf4(w, "nf4", 64, false);
  const torch::Tensor absmax = nf4.block_absmax();
  const torch::Tensor flat_error = (nf4.unpack(torch::kFloat32) - w).reshape({-1});
  const double widest_gap = (nf4_codebook().narrow(0, 1, 15) - nf4_codebook().narrow(0, 0, 15)).max().item<double>();
  EXPECT_NEAR(widest_gap, 1.0 - 0.6961928009986877, 1e-7);
  const torch::Tensor bound = torch::repeat_interleave(absmax, 64).narrow(0, 0, w.numel()) * widest_gap / 2;
  EXPECT_TRUE((flat_error.abs() <= bound + 1e-6).all().item<bool>());
  // Double quantization only perturbs the block scales a little.
  const BlockwiseWeight nf4_dq(w, "nf4", 64, true);
  EXPECT_LT(max_difference(nf4_dq.block_absmax(), absmax) / absmax.max().item<float>(), 0.01);
  EXPECT_LT(max_difference(nf4_dq.unpack(torch::kFloat32), nf4.unpack(torch::kFloat32)), 0.05);
}

models::ModelPtr tiny_gpt(uint64_t seed) { return testing::tiny_model("gpt-tiny", seed, 64, 128); }

torch::Tensor tokens() {
  torch::manual_seed(99);
  return torch::randint(0, 256, {3, 16}, torch::kInt64);
}

TEST(QuantizedModel, ForwardAndInputGradientsEqualADenseModelWithTheDequantizedWeights) {
  for (const QuantMode mode : {QuantMode::int8, QuantMode::nf4, QuantMode::int4}) {
    models::ModelPtr quantized = tiny_gpt(3), dense = tiny_gpt(3);
    const QuantizationSummary summary = quantize_linear_layers(*quantized, {mode, 0, true, {"attn.*", "mlp.*"}});
    EXPECT_EQ(summary.layers, 8);  // 2 blocks x (qkv, proj, fc1, fc2)
    EXPECT_EQ(summary.weights, 2 * (64 * 192 + 64 * 64 + 64 * 128 * 2));
    // The dense twin gets the dequantized weights.
    dequantize_linear_layers(*dense);
    {
      torch::NoGradGuard no_grad;
      auto q = quantized->named_modules();
      for (const auto& [name, layer] : adaptable_layers(*dense)) {
        auto* packed = dynamic_cast<models::AdaptableLinearImpl*>(q[name].get())->packed_weight().get();
        if (packed) layer->weight.copy_(packed->unpack(torch::kFloat32));
      }
    }
    EXPECT_EQ(quantized->named_parameters().find("blocks.0.attn.qkv.weight"), nullptr) << "the float copy is released";
    // Gradients flow through the frozen packed weights to everything before them.
    const torch::Tensor a = quantized->forward({tokens(), {}}), b = dense->forward({tokens(), {}});
    EXPECT_LT(max_difference(a, b), 1e-4) << choice_name(mode);
    a.pow(2).mean().backward();
    b.pow(2).mean().backward();
    const torch::Tensor ga = quantized->named_parameters()["token_embedding.weight"].grad();
    const torch::Tensor gb = dense->named_parameters()["token_embedding.weight"].grad();
    EXPECT_LT(max_difference(ga, gb), 1e-6) << choice_name(mode);
  }
}

TEST(QuantizedModel, QloraTrainsOnlyTheAdaptersAndSurvivesSaveAndLoad) {
  models::ModelPtr model = tiny_gpt(4);
  quantize_linear_layers(*model, {QuantMode::nf4, 0, true, {"attn.*", "mlp.*"}});
  apply_lora(*model, {4, 8.0, 0.0, {"attn.qkv", "mlp.fc1"}});
  for (const auto& p : model->named_parameters()) {
    EXPECT_EQ(p.value().requires_grad(), p.key().find(".lora.") != std::string::npos) << p.key();
  }
  model->forward({tokens(), {}}).pow(2).mean().backward();
  for (const auto& [name, p] : lora_parameters(*model)) {
    if (name.back() == 'A') continue;  // B = 0 at start, so A's gradient is zero: B's is not
    ASSERT_TRUE(p.grad().defined()) << name;
    EXPECT_GT(p.grad().abs().sum().item<float>(), 0.0f) << name;
  }
  // LoRA cannot be merged into packed weights, but into their dequantized form.
  EXPECT_THAT(testing::user_error([&] { merge_lora(*model); }), HasSubstr("quantized base"));

  testing::TempDir dir;
  torch::serialize::OutputArchive out;
  model->save(out);
  out.save_to(dir.path() + "/model.pt");
  models::ModelPtr restored = tiny_gpt(5);  // other random weights, quantized the same way
  quantize_linear_layers(*restored, {QuantMode::nf4, 0, true, {"attn.*", "mlp.*"}});
  apply_lora(*restored, {4, 8.0, 0.0, {"attn.qkv", "mlp.fc1"}});
  torch::serialize::InputArchive in;
  in.load_from(dir.path() + "/model.pt");
  restored->load(in);
  model->eval(), restored->eval();
  EXPECT_TRUE(torch::equal(model->forward({tokens(), {}}), restored->forward({tokens(), {}})));
}

TEST(QuantizedModel, ModelFactsCountPackedWeightsAsParameters) {
  models::ModelPtr model = tiny_gpt(6);
  const int64_t before = model_facts(*model).parameters;
  quantize_linear_layers(*model, {QuantMode::nf4, 0, true, {"attn.*", "mlp.*"}});
  const models::ModelFacts facts = model_facts(*model);
  EXPECT_EQ(facts.parameters, before);
  ASSERT_EQ(facts.packed.count("nf4"), 1u);
  EXPECT_EQ(facts.packed.at("nf4").weights, 2 * (64 * 192 + 64 * 64 + 64 * 128 * 2));
  EXPECT_GT(facts.weight_bytes.at("uint8"), 0);
  EXPECT_THAT(describe_model_facts(facts), HasSubstr("nf4: 65536 weights in"));
}

TEST(QuantizedModel, UnknownTargetsAndFormatsAreUserErrors) {
  models::ModelPtr model = tiny_gpt(7);
  EXPECT_THAT(testing::user_error([&] { quantize_linear_layers(*model, {QuantMode::nf4, 0, true, {"attn.nope"}}); }), HasSubstr("quantization.targets: \"attn.nope\" matches no linear layer"));
  EXPECT_THAT(testing::user_error([&] { quantize_weight(torch::zeros({2, 2}), {QuantMode::none, 0, true, {}}); }), HasSubstr("unknown format"));
}

}  // namespace
}  // namespace stratum::adapters::quant
