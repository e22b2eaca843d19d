// Prefix-tuning: only the prefixes train, folding the reparameterization MLP changes no output,
// every transformer model takes prefixes, and they stack with LoRA. (That attention with
// prefixes equals attention over concatenated keys and values is tests/models/transformer_test.)

#include "adapters/prefix.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "adapters/lora.h"
#include "core/registry.h"
#include "models/builtin_models.h"
#include "support/temp_dir.h"
#include "support/user_error.h"

namespace stratum::adapters {
namespace {

using ::testing::HasSubstr;

float max_difference(const torch::Tensor& a, const torch::Tensor& b) { return (a - b).abs().max().item<float>(); }

models::ModelPtr build(const std::string& name, uint64_t seed) {
  torch::manual_seed(seed);
  Registry registry;
  models::register_builtin_models(registry);
  ModelSection options;
  options.name = name;
  options.layers = 2, options.width = 32, options.heads = 4, options.mlp_hidden = 64, options.dropout = 0.0;
  if (name == "vit-tiny") {
    options.patch_size = 4;
    data::DataSpec spec;
    spec.input_shape = {1, 16, 16};
    spec.num_classes = 3;
    return build_model(registry, options, spec);
  }
  options.context = 16;
  return build_model(registry, options, data::byte_token_spec(16, name == "text-classifier" ? 3 : 0));
}

data::Batch batch_for(const std::string& name) {
  torch::manual_seed(7);
  if (name == "vit-tiny") return {torch::randn({3, 1, 16, 16}), torch::zeros({3}, torch::kInt64)};
  return {torch::randint(0, 256, {3, 16}, torch::kInt64), torch::zeros({3}, torch::kInt64)};
}

TEST(Prefix, EveryTransformerModelTrainsOnlyItsPrefixes) {
  for (const std::string name : {"gpt-tiny", "text-classifier", "vit-tiny"}) {
    models::ModelPtr model = build(name, 2);
    model->eval();
    const torch::Tensor before = model->forward(batch_for(name));
    PrefixEncoder encoder = apply_prefix(*model, {4, true, 16});
    EXPECT_EQ(encoder->layers(), 2);
    for (const auto& p : model->named_parameters()) {
      EXPECT_EQ(p.value().requires_grad(), p.key().rfind("prefix_encoder.", 0) == 0) << name << " " << p.key();
    }
    const torch::Tensor after = model->forward(batch_for(name));
    EXPECT_GT(max_difference(after, before), 1e-4) << name << ": the prefixes change the output";
    after.pow(2).mean().backward();
    for (const auto& p : encoder->parameters()) {
      ASSERT_TRUE(p.grad().defined()) << name;
      EXPECT_GT(p.grad().abs().sum().item<float>(), 0.0f) << name;
    }
  }
}

TEST(Prefix, FoldingTheMlpChangesNoOutputAndTheFoldedFileLoads) {
  models::ModelPtr model = build("gpt-tiny", 3);
  model->eval();
  PrefixEncoder encoder = apply_prefix(*model, {5, true, 24});
  const torch::Tensor unfolded = model->forward(batch_for("gpt-tiny"));
  testing::TempDir dir;
  save_prefix(*model, dir.path() + "/prefix.safetensors");
  EXPECT_FALSE(encoder->folded()) << "saving folds a copy, not the model";
  encoder->fold();
  EXPECT_TRUE(encoder->folded());
  EXPECT_EQ(encoder->parameters().size(), 1u);  // the table only
  EXPECT_LT(max_difference(model->forward(batch_for("gpt-tiny")), unfolded), 1e-6);

  // A fresh model with other random prefixes gives the same output once the file is loaded.
  models::ModelPtr other = build("gpt-tiny", 3);
  other->eval();
  apply_prefix(*other, {5, true, 24});
  load_prefix(*other, dir.path() + "/prefix.safetensors");
  EXPECT_LT(max_difference(other->forward(batch_for("gpt-tiny")), unfolded), 1e-6);

  models::ModelPtr longer = build("gpt-tiny", 3);
  apply_prefix(*longer, {6, false, 24});
  EXPECT_THAT(testing::user_error([&] { load_prefix(*longer, dir.path() + "/prefix.safetensors"); }),
              HasSubstr("\"prefix\" has shape [5,128], the model's prefixes [6,128]"));
}

TEST(Prefix, WorksTogetherWithLora) {
  models::ModelPtr model = build("gpt-tiny", 4);
  apply_lora(*model, {2, 4.0, 0.0, {"attn.qkv"}});
  apply_prefix(*model, {3, false, 8});
  int64_t trainable = 0;
  for (const auto& p : model->named_parameters()) {
    const bool adapter = p.key().find(".lora.") != std::string::npos || p.key().rfind("prefix_encoder.", 0) == 0;
    EXPECT_EQ(p.value().requires_grad(), adapter) << p.key();
    trainable += p.value().requires_grad();
  }
  EXPECT_EQ(trainable, 2 * 2 + 1);  // A and B in 2 blocks, one prefix table
}

}  // namespace
}  // namespace stratum::adapters
