// Prefix-tuning: only the prefixes train, folding the reparameterization MLP changes no output,
// every transformer model takes prefixes, and they stack with LoRA. (That attention with
// prefixes equals attention over concatenated keys and values is tests/models/transformer_test.)

#include "adapters/prefix.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "adapters/lora.h"
#include "models/model_registry.h"
#include "models/builtin_models.h"
#include "models/transformer_block.h"
#include "support/temp_dir.h"
#include "support/tiny_models.h"
#include "support/user_error.h"

namespace stratum::adapters {
namespace {

using ::testing::HasSubstr;

float max_difference(const torch::Tensor& a, const torch::Tensor& b) { return (a - b).abs().max().item<float>(); }

data::Batch batch_for(const std::string& name) {
  torch::manual_seed(7);
  if (name == "vit-tiny") return {torch::randn({3, 1, 16, 16}), torch::zeros({3}, torch::kInt64)};
  return {torch::randint(0, 256, {3, 16}, torch::kInt64), torch::zeros({3}, torch::kInt64)};
}

TEST(Prefix, EveryTransformerModelTrainsOnlyItsPrefixes) {
  for (const std::string name : {"gpt-tiny", "text-classifier", "vit-tiny"}) {
    models::ModelPtr model = testing::tiny_model(name, 2);
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
  models::ModelPtr model = testing::tiny_model("gpt-tiny", 3);
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
  models::ModelPtr other = testing::tiny_model("gpt-tiny", 3);
  other->eval();
  apply_prefix(*other, {5, true, 24});
  load_prefix(*other, dir.path() + "/prefix.safetensors");
  EXPECT_LT(max_difference(other->forward(batch_for("gpt-tiny")), unfolded), 1e-6);

  models::ModelPtr longer = testing::tiny_model("gpt-tiny", 3);
  apply_prefix(*longer, {6, false, 24});
  EXPECT_THAT(testing::user_error([&] { load_prefix(*longer, dir.path() + "/prefix.safetensors"); }),
              HasSubstr("\"prefix\" has shape [5,128], the model's prefixes [6,128]"));
}

TEST(Prefix, GradientCheckpointingGivesThePrefixesTheSameGradients) {
  models::ModelPtr model = testing::tiny_model("gpt-tiny", 5);
  model->train();
  PrefixEncoder encoder = apply_prefix(*model, {4, true, 16});
  const auto prefix_gradients = [&] {
    for (auto& p : encoder->parameters()) p.mutable_grad() = torch::Tensor();
    model->forward(batch_for("gpt-tiny")).pow(2).mean().backward();
    std::vector<torch::Tensor> out;
    for (const auto& p : encoder->parameters()) out.push_back(p.grad().clone());
    return out;
  };
  const std::vector<torch::Tensor> plain = prefix_gradients();
  for (const auto& module : model->modules(/*include_self=*/false)) {
    if (auto* block = dynamic_cast<models::TransformerBlock*>(module.get())) block->recompute = true;
  }
  const std::vector<torch::Tensor> recomputed = prefix_gradients();
  ASSERT_EQ(plain.size(), recomputed.size());
  for (size_t i = 0; i < plain.size(); ++i) {
    EXPECT_GT(plain[i].abs().sum().item<float>(), 0.0f);
    EXPECT_LT(max_difference(plain[i], recomputed[i]), 1e-6) << "encoder parameter " << i;
  }
}

TEST(Prefix, WorksTogetherWithLora) {
  models::ModelPtr model = testing::tiny_model("gpt-tiny", 4);
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
