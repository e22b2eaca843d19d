// Checkpoint metadata: metadata.json, state.json and the model archive mutated (and re-signed,
// as a hostile author would, so the checks behind the checksums are reached) either restore or
// are refused with one line naming the file and field.

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>
#include <fstream>

#include "engine/checkpoint_store.h"
#include "core/sha256.h"
#include "engine/training_checkpoint.h"
#include "fuzz/fuzz_tally.h"
#include "fuzz/mutator.h"
#include "support/temp_dir.h"

namespace stratum::testing {
namespace {

namespace fs = std::filesystem;

const std::vector<std::string> kJsonTokens = {
    "{", "}", "[", "]", ",", ":", "\"", "null", "true", "false", "-1", "-9223372036854775808", "1e400", "0.5",
    "18446744073709551616", "\"step\": ", "\"batches\": ", "\"format_version\": ", "\"sha256\": ", "\"data_spec\": ",
    "\"kind\": 7", "\"input_shape\": [0]", "\"class_names\": [1]", "\"../x\"", "\"COMMITTED\"", "\\u0000", "\\ud800"};

// Rewrites metadata.json's digest of `file` to match its current bytes.
void resign(const std::string& dir, const std::string& file) {
  std::string metadata = read_file(dir + "/metadata.json");
  const std::string key = "\"" + file + "\": \"";
  const auto at = metadata.find(key);
  if (at == std::string::npos || at + key.size() + 64 > metadata.size()) return;
  metadata.replace(at + key.size(), 64, sha256_hex(read_file(dir + "/" + file)));
  std::ofstream(dir + "/metadata.json", std::ios::binary | std::ios::trunc) << metadata;
}

TEST(CheckpointFuzz, MutatedMetadataStateAndModelRestoreOrNameTheProblem) {
  TempDir dir;
  torch::manual_seed(3);
  torch::nn::Linear model(4, 3);
  torch::optim::AdamW optimizer(model->parameters(), torch::optim::AdamWOptions(1e-2));
  TrainingState state;
  state.step = 5;
  state.batches = 9;
  state.data_spec.input_shape = {4};
  state.data_spec.num_classes = 3;
  state.data_spec.class_names = {"a", "b", "c"};
  const std::string original =
      save_training_checkpoint(dir.path() + "/checkpoints", state, *model, optimizer, "run: {}\n", "pipeline", 2);
  Mutator mutator(5, kJsonTokens);
  FuzzTally tally("checkpoint metadata");
  const std::vector<std::string> targets = {"metadata.json", "state.json", "state.json", "model.pt", "rng_cpu.pt"};
  for (int i = 0; i < 600; ++i) {
    const std::string copy = dir.path() + "/case";
    fs::remove_all(copy);
    fs::copy(original, copy, fs::copy_options::recursive);
    const std::string& target = targets[static_cast<size_t>(i) % targets.size()];
    const std::string bytes = mutator.mutate(read_file(copy + "/" + target));
    std::ofstream(copy + "/" + target, std::ios::binary | std::ios::trunc) << bytes;
    if (target != "metadata.json") resign(copy, target);
    tally.run(i, [&] {
      read_training_state(copy);
      torch::nn::Linear fresh(4, 3);
      torch::optim::AdamW fresh_optimizer(fresh->parameters(), torch::optim::AdamWOptions(1e-2));
      load_training_checkpoint(copy, fresh.get(), fresh_optimizer);
    }, target + ": " + bytes.substr(0, 200));
  }
  EXPECT_GT(tally.refused(), 200);
}

}  // namespace
}  // namespace stratum::testing
