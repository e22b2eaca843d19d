// A ViT trained through the binary on Fashion-MNIST exported as an image folder, with random
// resized crops and flips: it trains, evaluates every split, and a resumed run draws the same
// augmentations and repeats the uninterrupted run's losses.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>

#include "integration/training_run.h"

namespace stratum::testing {
namespace {

TEST(ImageFolderRuns, AViTTrainsOnAugmentedImagesAndResumesExactly) {
  const std::string python = std::string(STRATUM_SOURCE_DIR) + "/.venv/bin/python";
  ASSERT_TRUE(std::filesystem::exists(python)) << python << " is missing: run scripts/setup.sh";
  TempDir dir;
  const CommandResult made = run_command("'" + python + "' '" + STRATUM_SOURCE_DIR +
                                         "/scripts/export_fashion_mnist.py' /usr/share/datasets/fashion-mnist '" +
                                         dir.path() + "/png' 400 png");
  ASSERT_EQ(made.exit_code, 0) << made.err;
  const std::string args = "train --config configs/vit-image-folder.yaml --set data.path=" + dir.path() +
                           "/png --set run.output_dir=" + dir.path() + "/runs --set trainer.threads=2" +
                           " --set trainer.epochs=0 --set trainer.steps=20 --set trainer.batch_size=32" +
                           " --set trainer.checkpoint.every=10 --set trainer.checkpoint.keep_last=3" +
                           " --set logging.every=1 --set data.workers=2" +
                           " --set 'data.image.augment=[random_resized_crop, horizontal_flip, color_jitter]'";
  const CommandResult full = run_stratum(args);
  ASSERT_EQ(full.exit_code, 0) << full.err;
  const std::string run_dir = run_directory(full);
  const auto eval = nlohmann::json::parse(read_file(run_dir + "/eval.json"));
  EXPECT_EQ(eval["splits"]["seen"]["samples"].get<int64_t>() + eval["splits"]["validation"]["samples"].get<int64_t>(), 400);
  const auto manifest = nlohmann::json::parse(read_file(run_dir + "/manifest.json"));
  EXPECT_EQ(manifest["files"].size(), 10u);  // one entry per class folder
  EXPECT_EQ(manifest["records_read"], 400);
  const CommandResult resumed = run_stratum(args + " --resume " + run_dir + "/checkpoints/step-10");
  ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
  const auto expected = logged_losses(run_dir), got = logged_losses(run_directory(resumed));
  ASSERT_EQ(got.size(), 10u);
  for (const auto& [step, loss] : got) EXPECT_EQ(loss, expected.at(step)) << "step " << step;
}

}  // namespace
}  // namespace stratum::testing
