// Before the first resumed step, everything a checkpoint restores must equal what was saved.

#include "engine/training_checkpoint.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <type_traits>

#include "engine/checkpoint_store.h"
#include "core/sha256.h"
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

// A saved checkpoint of a 4 -> 3 linear layer.
std::string save_linear(const TempDir& dir) {
  torch::nn::Linear model(4, 3);
  torch::optim::AdamW optimizer(model->parameters(), torch::optim::AdamWOptions(1e-2));
  TrainingState state;
  state.step = 2;
  return save_training_checkpoint(dir.path() + "/checkpoints", state, *model, optimizer, "", "", 2);
}

// Replaces `file` in a checkpoint and re-signs metadata.json, as a hostile author would.
void forge(const std::string& checkpoint, const std::string& file, const std::string& bytes,
           const std::string& metadata_step = "2") {
  std::ofstream(checkpoint + "/" + file, std::ios::binary) << bytes;
  std::string metadata = testing::read_file(checkpoint + "/metadata.json");
  const auto at = metadata.find("\"" + file + "\": \"");
  if (at != std::string::npos) metadata.replace(at + file.size() + 5, 64, sha256_hex(bytes));
  const auto step = metadata.find("\"step\": ");
  metadata.replace(step + 8, metadata.find(',', step) - step - 8, metadata_step);
  std::ofstream(checkpoint + "/metadata.json", std::ios::binary) << metadata;
}

TEST(TrainingCheckpoint, AModelOfAnotherShapeIsRefusedNamingTheTensorAndBothShapes) {
  TempDir dir;
  const std::string saved = save_linear(dir);
  torch::nn::Linear other(8, 3);
  torch::optim::AdamW optimizer(other->parameters(), torch::optim::AdamWOptions(1e-2));
  const std::string error = testing::user_error([&] { load_training_checkpoint(saved, other.get(), optimizer); });
  EXPECT_EQ(error, saved + "/model.pt: tensor weight is [3,4] Float in the checkpoint but [3,8] Float in the configured "
                           "model; resume or evaluate with the config the checkpoint was trained with (its "
                           "config.resolved.yaml)");
  EXPECT_THAT(testing::user_error([&] { load_model_weights(saved, *other); }), ::testing::HasSubstr("tensor weight is [3,4]"));
  // The parameters were left as they were.
  EXPECT_EQ(other->weight.sizes(), (std::vector<int64_t>{3, 8}));
  torch::nn::Sequential nested(torch::nn::Linear(4, 3));
  EXPECT_THAT(testing::user_error([&] { load_model_weights(saved, *nested); }), ::testing::HasSubstr("no module 0"));
}

TEST(TrainingCheckpoint, HostileMetadataAndStateAreUserErrorsNamingTheField) {
  TempDir dir;
  const std::string saved = save_linear(dir);
  torch::nn::Linear model(4, 3);
  torch::optim::AdamW optimizer(model->parameters(), torch::optim::AdamWOptions(1e-2));
  const std::string state = testing::read_file(saved + "/state.json");
  forge(saved, "state.json", state, "\"two\"");
  EXPECT_THAT(testing::user_error([&] { read_training_state(saved); }),
              ::testing::HasSubstr("metadata.json: step must be a non-negative integer, found \"two\""));
  forge(saved, "state.json", state, "-4");
  EXPECT_THAT(testing::user_error([&] { read_training_state(saved); }), ::testing::HasSubstr("found -4"));
  for (const char* bad : {"\"step\": \"x\"", "\"step\": -3", "\"step\": 1e300", "\"step\": 99999999999999999999"}) {
    std::string edited = state;
    const auto at = edited.find("\"step\": ");
    edited.replace(at, edited.find(',', at) - at, bad);
    forge(saved, "state.json", edited);
    const std::string error = testing::user_error([&] { load_training_checkpoint(saved, model.get(), optimizer); });
    EXPECT_THAT(error, ::testing::HasSubstr("state.json: corrupt training state")) << bad;
  }
  forge(saved, "state.json", "{\"step\": 1, \"batches\": 1, \"data_spec\": {\"kind\": 9}}");
  EXPECT_THAT(testing::user_error([&] { read_training_state(saved); }), ::testing::HasSubstr("corrupt training state"));
}

TEST(TrainingCheckpoint, OddFoldersAndLinkLoopsUnderCheckpointsAreNotErrors) {
  TempDir dir;
  const std::string saved = save_linear(dir);
  const std::string root = dir.path() + "/checkpoints";
  for (const char* odd : {"step-99999999999999999999999999", "step-", "step-1x", "step--1", ".hidden"}) {
    std::filesystem::create_directories(root + "/" + odd);
    std::ofstream(root + "/" + odd + "/COMMITTED") << "1\n";
  }
  std::filesystem::create_symlink(root + "/loop", root + "/loop");
  std::filesystem::create_symlink(root + "/loop", root + "/step-7");
  EXPECT_EQ(latest_checkpoint(root), saved);
  EXPECT_EQ(resolve_checkpoint(dir.path()), saved);
  EXPECT_THAT(testing::user_error([&] { resolve_checkpoint(root + "/loop"); }), ::testing::HasSubstr("loop: cannot use as a checkpoint:"));
  EXPECT_THAT(testing::user_error([&] { verify_checkpoint(root + "/loop"); }), ::testing::HasSubstr("no such checkpoint directory"));
  const std::string long_name = dir.path() + "/" + std::string(300, 'n');
  EXPECT_THAT(testing::user_error([&] { resolve_checkpoint(long_name); }), ::testing::HasSubstr("cannot use as a checkpoint"));
  rotate_checkpoints(root, 2);  // leaves what it does not understand alone, and does not throw
  EXPECT_TRUE(std::filesystem::is_directory(saved));
}

}  // namespace
}  // namespace stratum
