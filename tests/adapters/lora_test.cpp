#include "adapters/lora.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>
#include <map>

#include "models/model_registry.h"
#include "models/builtin_models.h"
#include "support/temp_dir.h"
#include "support/tiny_models.h"
#include "support/user_error.h"

namespace stratum::adapters {
namespace {

using ::testing::HasSubstr;

models::ModelPtr tiny_gpt(uint64_t seed) { return testing::tiny_model("gpt-tiny", seed); }

data::Batch tokens(uint64_t seed) {
  torch::manual_seed(seed);
  return {torch::randint(0, 256, {3, 16}, torch::kInt64), torch::zeros({3}, torch::kInt64)};
}

// Gives every B a random value, as if trained, so the update is not zero.
void train_adapters_a_little(torch::nn::Module& model) {
  torch::NoGradGuard no_grad;
  for (auto& [name, p] : lora_parameters(model)) {
    if (name.size() >= 2 && name.substr(name.size() - 2) == ".B") p.normal_(0, 0.05);
  }
}

TEST(Lora, PatternsMatchTheEndOfDottedNamesSegmentBySegment) {
  EXPECT_TRUE(matches_module_pattern("blocks.0.attn.qkv", "attn.qkv"));
  EXPECT_TRUE(matches_module_pattern("blocks.3.mlp.fc2", "mlp.*"));
  EXPECT_TRUE(matches_module_pattern("blocks.3.mlp.fc2", "blocks.*.mlp.fc*"));
  EXPECT_FALSE(matches_module_pattern("blocks.0.attn.qkv", "qk"));
  EXPECT_FALSE(matches_module_pattern("qkv", "attn.qkv"));
}

TEST(Lora, StartsAsTheBaseModelAndTrainsOnlyTheAdapters) {
  models::ModelPtr model = tiny_gpt(1);
  model->eval();
  const torch::Tensor before = model->forward(tokens(2));
  const std::vector<std::string> wrapped = apply_lora(*model, {4, 8.0, 0.0, {"attn.qkv", "mlp.*"}});
  EXPECT_EQ(wrapped.size(), 6u);  // 2 blocks x (qkv, fc1, fc2)
  EXPECT_TRUE(torch::equal(model->forward(tokens(2)), before));  // B = 0: no change yet

  model->train();
  model->forward(tokens(3)).sum().backward();
  int64_t adapter_params = 0;
  for (const auto& item : model->named_parameters()) {
    const bool adapter = item.key().find(".lora.") != std::string::npos;
    EXPECT_EQ(item.value().requires_grad(), adapter) << item.key();
    if (adapter) {
      ++adapter_params;
      ASSERT_TRUE(item.value().grad().defined()) << item.key();
    } else {
      EXPECT_FALSE(item.value().grad().defined()) << item.key();
    }
  }
  EXPECT_EQ(adapter_params, 12);  // A and B per wrapped layer
  // A's gradient is zero while B is zero; B's is not.
  EXPECT_GT(lora_parameters(*model)[1].second.grad().abs().sum().item<double>(), 0.0);
}

TEST(Lora, MergedAndUnmergedOutputsAgreeAndUnmergeRestoresTheBase) {
  models::ModelPtr model = tiny_gpt(1);
  apply_lora(*model, {8, 16.0, 0.1, {"attn.qkv", "attn.proj", "mlp.*"}});
  train_adapters_a_little(*model);
  model->eval();
  const torch::Tensor base_weight = model->named_parameters()["blocks.0.attn.qkv.weight"].clone();
  const torch::Tensor unmerged = model->forward(tokens(4));
  merge_lora(*model);
  const torch::Tensor merged = model->forward(tokens(4));
  EXPECT_FALSE(torch::equal(model->named_parameters()["blocks.0.attn.qkv.weight"], base_weight));
  EXPECT_LT((merged - unmerged).abs().max().item<double>(), 1e-5);
  std::printf("max |merged - unmerged| = %.3g\n", (merged - unmerged).abs().max().item<double>());
  unmerge_lora(*model);
  EXPECT_LT((model->named_parameters()["blocks.0.attn.qkv.weight"] - base_weight).abs().max().item<double>(), 1e-6);
  EXPECT_LT((model->forward(tokens(4)) - unmerged).abs().max().item<double>(), 1e-5);
}

TEST(Lora, AdapterOnlyFilesRoundTripAndFailClosed) {
  testing::TempDir dir;
  models::ModelPtr trained = tiny_gpt(1);
  apply_lora(*trained, {4, 8.0, 0.0, {"attn.qkv"}});
  train_adapters_a_little(*trained);
  const std::string path = dir.path() + "/lora.safetensors";
  save_lora(*trained, path);
  EXPECT_LT(std::filesystem::file_size(path), 20000u);  // only the adapters: 2 x (A 4x32 + B 96x4) floats

  models::ModelPtr fresh = tiny_gpt(1);  // the same frozen base, new adapters
  apply_lora(*fresh, {4, 8.0, 0.0, {"attn.qkv"}});
  load_lora(*fresh, path);
  trained->eval(), fresh->eval();
  EXPECT_TRUE(torch::equal(fresh->forward(tokens(5)), trained->forward(tokens(5))));

  models::ModelPtr other = tiny_gpt(1);
  apply_lora(*other, {8, 8.0, 0.0, {"attn.qkv"}});
  EXPECT_THAT(testing::user_error([&] { load_lora(*other, path); }),
              HasSubstr(path + ": \"blocks.0.attn.qkv.lora.A\" has shape [4,32], the adapter [8,32]"));
  models::ModelPtr more = tiny_gpt(1);
  apply_lora(*more, {4, 8.0, 0.0, {"attn.*"}});
  EXPECT_THAT(testing::user_error([&] { load_lora(*more, path); }), HasSubstr("no tensor \"blocks.0.attn.proj.lora.A\""));
  EXPECT_THAT(testing::user_error([&] { apply_lora(*tiny_gpt(1), {4, 8.0, 0.0, {"attn.qvk"}}); }),
              HasSubstr("adapters.lora.targets: \"attn.qvk\" matches no linear layer of this model (layers: "));
}

TEST(Lora, TrainingTheAdaptersLowersTheLossWhileTheBaseStaysFrozen) {
  models::ModelPtr model = tiny_gpt(1);
  std::map<std::string, torch::Tensor> base;
  for (const auto& item : model->named_parameters()) base[item.key()] = item.value().clone();
  apply_lora(*model, {8, 16.0, 0.0, {"attn.*", "mlp.*"}});
  std::vector<torch::Tensor> trainable;
  for (const auto& p : model->parameters()) {
    if (p.requires_grad()) trainable.push_back(p);
  }
  torch::optim::Adam optimizer(trainable, torch::optim::AdamOptions(0.01));
  const data::Batch batch = tokens(7);
  const auto loss_of = [&]() {
    const torch::Tensor logits = model->forward(batch);
    return torch::nn::functional::cross_entropy(logits.slice(1, 0, 15).reshape({-1, logits.size(2)}),
                                                batch.inputs.slice(1, 1).reshape({-1}));
  };
  const double first = loss_of().item<double>();
  for (int step = 0; step < 60; ++step) {
    optimizer.zero_grad();
    loss_of().backward();
    optimizer.step();
  }
  EXPECT_LT(loss_of().item<double>(), first - 0.3);
  for (const auto& item : model->named_parameters()) {
    if (base.count(item.key())) {
      EXPECT_TRUE(torch::equal(item.value(), base.at(item.key()))) << item.key();
    }
  }
}

}  // namespace
}  // namespace stratum::adapters
