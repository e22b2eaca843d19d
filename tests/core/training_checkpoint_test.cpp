// Before the first resumed step, everything a checkpoint restores must equal what was saved.

#include "core/training_checkpoint.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>
#include <sstream>
#include <string>
#include <type_traits>

#include "support/temp_dir.h"
#include "support/user_error.h"

namespace stratum {
namespace {

using testing::TempDir;

void train_a_little(torch::nn::Linear& model, torch::optim::Optimizer& optimizer) {
  for (int i = 0; i < 3; ++i) {
    optimizer.zero_grad();
    model->forward(torch::randn({8, 4})).pow(2).mean().backward();
    optimizer.step();
  }
}

// LibTorch keys optimizer state by the parameter's TensorImpl: as a pointer (2.x) or as its
// printed address (1.x); either way the key is derived from the type the map declares.
template <class Map>
typename Map::key_type state_key(const torch::Tensor& p) {
  if constexpr (std::is_same_v<typename Map::key_type, std::string>) {
    std::ostringstream key;
    key << p.unsafeGetTensorImpl();
    return key.str();
  } else {
    return p.unsafeGetTensorImpl();
  }
}

const torch::optim::AdamWParamState& moments(const torch::optim::Optimizer& optimizer, const torch::Tensor& p) {
  const auto& state = optimizer.state();
  return static_cast<const torch::optim::AdamWParamState&>(
      *state.at(state_key<std::decay_t<decltype(state)>>(p)));
}

TEST(TrainingCheckpoint, RestoresModelOptimizerMomentsRandomStreamsDataStateAndCounters) {
  TempDir dir;
  torch::manual_seed(1);
  torch::nn::Linear model(4, 3);
  torch::optim::AdamW optimizer(model->parameters(), torch::optim::AdamWOptions(1e-2));
  train_a_little(model, optimizer);

  TrainingState state;
  state.step = 3;
  state.batches = 7;
  state.data_fingerprint = "fingerprint";
  state.config_sha256 = "config";
  state.loss_scale = 4096;
  state.loss_scale_clean_steps = 11;
  state.skipped_steps = 2;
  const std::string pipeline("reservoirs\0with zero bytes", 26);
  const std::string saved =
      save_training_checkpoint(dir.path() + "/checkpoints", state, *model, optimizer, "run: {}\n", pipeline, 2);
  EXPECT_TRUE(std::filesystem::is_regular_file(saved + "/data_state.bin"));
  const torch::Tensor next_draw = torch::rand({5});

  torch::manual_seed(99);  // a different model, optimizer and random stream
  torch::nn::Linear restored(4, 3);
  torch::optim::AdamW restored_optimizer(restored->parameters(), torch::optim::AdamWOptions(1e-2));
  train_a_little(restored, restored_optimizer);
  const TrainingState loaded = load_training_checkpoint(saved, restored.get(), restored_optimizer);

  EXPECT_TRUE(torch::equal(torch::rand({5}), next_draw));
  const auto original = model->parameters(), got = restored->parameters();
  ASSERT_EQ(original.size(), got.size());
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_TRUE(torch::equal(original[i], got[i]));
    EXPECT_TRUE(torch::equal(moments(optimizer, original[i]).exp_avg(), moments(restored_optimizer, got[i]).exp_avg()));
    EXPECT_TRUE(
        torch::equal(moments(optimizer, original[i]).exp_avg_sq(), moments(restored_optimizer, got[i]).exp_avg_sq()));
    EXPECT_EQ(moments(optimizer, original[i]).step(), moments(restored_optimizer, got[i]).step());
  }
  EXPECT_EQ(loaded.step, 3);
  EXPECT_EQ(loaded.batches, 7);
  EXPECT_EQ(loaded.data_fingerprint, "fingerprint");
  EXPECT_EQ(loaded.loss_scale, 4096);
  EXPECT_EQ(loaded.loss_scale_clean_steps, 11);
  EXPECT_EQ(loaded.skipped_steps, 2);
  EXPECT_EQ(read_pipeline_state(saved), pipeline);
  EXPECT_FALSE(loaded.pipeline_sha256.empty());
}

TEST(TrainingCheckpoint, ATamperedDataStateFailsClosedNamingTheFile) {
  TempDir dir;
  torch::nn::Linear model(2, 2);
  torch::optim::AdamW optimizer(model->parameters(), torch::optim::AdamWOptions(1e-2));
  TrainingState state;
  state.step = 1;
  const std::string saved =
      save_training_checkpoint(dir.path() + "/checkpoints", state, *model, optimizer, "", "pipeline bytes", 2);
  dir.write("checkpoints/step-1/data_state.bin", "other bytes");
  EXPECT_EQ(testing::user_error([&] { load_training_checkpoint(saved, model.get(), optimizer); }),
            saved + "/data_state.bin: checksum mismatch (the file is corrupt or was changed)");
}

}  // namespace
}  // namespace stratum
