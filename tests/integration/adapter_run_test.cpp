// Adapters end to end through the binary: a GPT is pre-trained on fortunes and exported, then
// fine-tuned with LoRA, with QLoRA (LoRA over an nf4 base) and with prefix-tuning; the runs'
// artifacts evaluate and export.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "integration/training_run.h"

namespace fs = std::filesystem;

namespace stratum::testing {
namespace {

using ::testing::HasSubstr;

// A pre-trained GPT exported in the reference layout, and its validation loss.
struct Base {
  std::string path;
  double validation_loss = 0;
};

// Pre-trains `overrides`' GPT for `steps` and exports it to DIR/base.safetensors.
Base pretrained_base(const std::string& overrides, int steps, const TempDir& dir) {
  const RunResult base = train("configs/gpt-fortunes.yaml", overrides + " --set trainer.steps=" + std::to_string(steps), dir);
  const std::string exported = dir.path() + "/base.safetensors";
  const CommandResult e = run_stratum("export --checkpoint " + base.run_dir + " --out " + exported);
  EXPECT_EQ(e.exit_code, 0) << e.err;
  return {exported, base.eval["splits"]["validation"]["loss"].get<double>()};
}

TEST(AdapterRuns, LoraFineTunesAPretrainedGptAndSavesOnlyTheAdapters) {
  TempDir dir;
  const RunResult base = train("configs/gpt-fortunes.yaml", std::string(kSmallText) + " --set trainer.steps=40", dir);
  const std::string exported = dir.path() + "/base.safetensors";
  ASSERT_EQ(run_stratum("export --checkpoint " + base.run_dir + " --out " + exported).exit_code, 0);

  TempDir tuned_dir;
  const std::string lora = std::string(kSmallText) + " --set trainer.steps=20 --set trainer.lr=0.01" +
                           " --set model.init_from=" + exported +
                           " --set adapters.lora.enabled=true --set adapters.lora.targets=[attn.qkv,mlp.*]";
  const RunResult tuned = train("configs/gpt-fortunes.yaml", lora, tuned_dir);
  ASSERT_GE(tuned.train_losses.size(), 2u);
  EXPECT_THAT(tuned.out, HasSubstr("lora: rank 8, alpha 16 on 6 layers; "));
  EXPECT_LT(tuned.train_losses.front(), base.train_losses.front() - 1.0);  // starts from the pretrained base
  for (double loss : tuned.train_losses) EXPECT_TRUE(std::isfinite(loss));
  // The adapter artifact is small next to the full checkpoint.
  const auto adapter_bytes = fs::file_size(tuned.run_dir + "/lora.safetensors");
  const std::string checkpoint = tuned.run_dir + "/checkpoints/step-20";
  EXPECT_LT(adapter_bytes * 4, fs::file_size(checkpoint + "/model.pt"));
  EXPECT_LT(tuned.eval["model"]["trainable_parameters"].get<int64_t>(), tuned.eval["model"]["parameters"].get<int64_t>() / 3);
  EXPECT_LT(tuned.eval["model"]["trainable_fraction"].get<double>(), 1.0 / 3);
  EXPECT_EQ(tuned.eval["model"]["weight_bytes"]["float32"].get<int64_t>(), 4 * tuned.eval["model"]["parameters"].get<int64_t>());
  EXPECT_THAT(tuned.out, HasSubstr("trainable, "));

  // The checkpoint (base + adapters) evaluates and exports with the updates merged in.
  const CommandResult e = run_stratum("eval --config " + tuned.run_dir + "/config.resolved.yaml --checkpoint " +
                                      checkpoint + " --out " + tuned_dir.path() + "/eval.json");
  ASSERT_EQ(e.exit_code, 0) << e.err;
  const auto again = nlohmann::json::parse(read_file(tuned_dir.path() + "/eval.json"));
  EXPECT_NEAR(again["splits"]["validation"]["loss"].get<double>(),
              tuned.eval["splits"]["validation"]["loss"].get<double>(), 1e-6);
  const std::string merged = tuned_dir.path() + "/merged.safetensors";
  const CommandResult x = run_stratum("export --checkpoint " + checkpoint + " --out " + merged);
  ASSERT_EQ(x.exit_code, 0) << x.err;
  EXPECT_THAT(read_file(merged), ::testing::Not(HasSubstr("lora")));
  EXPECT_EQ(fs::file_size(merged), fs::file_size(exported));
  EXPECT_NE(read_file(merged), read_file(exported));  // the trained updates are in it
}

// 64 wide (every layer holds whole nf4 blocks of 64, as in a real model), and pre-trained long
// enough that attention matters, so adapters on it have something to tune.
const std::string kWide = std::string(kSmallText) +
                          " --set model.width=64 --set model.heads=4 --set model.mlp_hidden=256 --set eval.max_samples=256";

TEST(AdapterRuns, QloraEndsWithinTwoPercentOfLoraOnTheFloatBase) {
  const std::string& wide = kWide;
  TempDir dir;
  const Base base = pretrained_base(wide, 150, dir);
  const std::string tune = wide + " --set trainer.steps=60 --set trainer.lr=0.005 --set model.init_from=" + base.path +
                           " --set adapters.lora.enabled=true --set adapters.lora.targets=[attn.qkv,attn.proj,mlp.*]";
  TempDir lora_dir, qlora_dir;
  const RunResult lora = train("configs/gpt-fortunes.yaml", tune, lora_dir);
  const RunResult qlora = train("configs/gpt-fortunes.yaml", tune + " --set quantization.mode=nf4", qlora_dir);
  EXPECT_THAT(qlora.out, HasSubstr("quantization: nf4 (blocks of 64, double-quantized scales) on 8 layers: 98304 weights in"));
  const double lora_loss = lora.eval["splits"]["validation"]["loss"].get<double>();
  const double qlora_loss = qlora.eval["splits"]["validation"]["loss"].get<double>();
  std::printf("validation loss: LoRA on the float32 base %.4f, QLoRA on nf4 %.4f (%+.2f%%)\n", lora_loss, qlora_loss,
              100.0 * (qlora_loss - lora_loss) / lora_loss);
  EXPECT_LT(std::abs(qlora_loss - lora_loss) / lora_loss, 0.02);
  EXPECT_LT(qlora_loss, base.validation_loss) << "the adapters recover the quantization error and improve on the base";

  // Same parameter count, the packed weights' memory in eval.json.
  const auto& model = qlora.eval["model"];
  EXPECT_EQ(model["parameters"], lora.eval["model"]["parameters"]);
  EXPECT_EQ(model["trainable_parameters"], lora.eval["model"]["trainable_parameters"]);
  EXPECT_EQ(model["quantized"]["nf4"]["weights"].get<int64_t>(), 98304);
  EXPECT_LE(model["quantized"]["nf4"]["bytes_per_weight"].get<double>(), 0.52);
  EXPECT_GT(model["weight_bytes"]["uint8"].get<int64_t>(), 0);

  // The checkpoint resumes and evaluates with the packed weights, and exports dequantized
  // with the LoRA updates merged, in the base's layout and size.
  const std::string checkpoint = qlora.run_dir + "/checkpoints/step-60";
  const CommandResult e = run_stratum("eval --config " + qlora.run_dir + "/config.resolved.yaml --checkpoint " +
                                      checkpoint + " --out " + qlora_dir.path() + "/eval.json");
  ASSERT_EQ(e.exit_code, 0) << e.err;
  const auto again = nlohmann::json::parse(read_file(qlora_dir.path() + "/eval.json"));
  EXPECT_NEAR(again["splits"]["validation"]["loss"].get<double>(), qlora_loss, 1e-6);
  const std::string merged = qlora_dir.path() + "/merged.safetensors";
  const CommandResult x = run_stratum("export --checkpoint " + checkpoint + " --out " + merged);
  ASSERT_EQ(x.exit_code, 0) << x.err;
  EXPECT_EQ(fs::file_size(merged), fs::file_size(base.path));
}

TEST(AdapterRuns, PrefixTuningTrainsOnlyThePrefixesAndWritesThemFolded) {
  TempDir dir;
  const Base base = pretrained_base(kWide, 150, dir);
  TempDir tuned_dir;
  const RunResult tuned = train("configs/prefix.yaml", kWide + " --set trainer.steps=100 --set trainer.lr=0.01" +
                                " --set model.init_from=" + base.path + " --set adapters.prefix.length=8" +
                                " --set adapters.prefix.hidden=64", tuned_dir);
  EXPECT_THAT(tuned.out, HasSubstr("prefix: 8 positions in 2 layers through a 64-wide MLP; "));
  const double tuned_loss = tuned.eval["splits"]["validation"]["loss"].get<double>();
  std::printf("validation loss: base %.4f, prefix-tuned %.4f\n", base.validation_loss, tuned_loss);
  EXPECT_LT(tuned_loss, base.validation_loss);
  // Trainable: the embedding (8 x 64), down (64 x 64 + 64) and up (64 x 256 + 256).
  EXPECT_EQ(tuned.eval["model"]["trainable_parameters"].get<int64_t>(), 8 * 64 + 64 * 64 + 64 + 64 * 256 + 256);
  // prefix.safetensors holds the folded prefixes: 8 positions x 2 layers x (keys, values) x 64.
  EXPECT_THAT(read_file(tuned.run_dir + "/prefix.safetensors"), HasSubstr("\"shape\":[8,256]"));
  // Export writes the base in its layout and the prefixes beside it.
  const std::string exported = tuned_dir.path() + "/tuned.safetensors";
  const CommandResult x = run_stratum("export --checkpoint " + tuned.run_dir + " --out " + exported);
  ASSERT_EQ(x.exit_code, 0) << x.err;
  EXPECT_THAT(x.out, HasSubstr("tuned.prefix.safetensors"));
  EXPECT_EQ(fs::file_size(exported), fs::file_size(base.path));
  EXPECT_TRUE(fs::exists(tuned_dir.path() + "/tuned.prefix.safetensors"));
}

}  // namespace
}  // namespace stratum::testing
