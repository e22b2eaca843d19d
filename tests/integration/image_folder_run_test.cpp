// A ViT trained through the binary on Fashion-MNIST exported as an image folder, with random
// resized crops, flips, colour jitter and Mixup / CutMix: it trains, evaluates every split, and a
// resumed run draws the same augmentations and mixes and repeats the uninterrupted run's losses.
// Mixup where inputs cannot be blended is a one-line error.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "data/images/image_decode.h"
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
                           " --set 'data.image.augment=[random_resized_crop, horizontal_flip, rand_augment, color_jitter]'" +
                           " --set trainer.mixup.mixup_alpha=0.8 --set trainer.mixup.cutmix_alpha=1.0" +
                           " --set trainer.label_smoothing=0.1";
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
  for (const auto& [step, loss] : expected) EXPECT_TRUE(std::isfinite(loss)) << "step " << step;
}

TEST(ImageFolderRuns, DataPreviewDrawsWhatTrainingAndEvaluationSee) {
  const std::string python = std::string(STRATUM_SOURCE_DIR) + "/.venv/bin/python";
  TempDir dir;
  const CommandResult made = run_command("'" + python + "' '" + STRATUM_SOURCE_DIR +
                                         "/scripts/export_fashion_mnist.py' /usr/share/datasets/fashion-mnist '" +
                                         dir.path() + "/png' 60 png");
  ASSERT_EQ(made.exit_code, 0) << made.err;
  const std::string base = "data preview --config configs/vit-image-folder.yaml --set data.path=" + dir.path() + "/png";
  const std::string args = base + " --count 16 --epoch 3 --out " + dir.path() + "/preview";
  const CommandResult first = run_stratum(args);
  ASSERT_EQ(first.exit_code, 0) << first.out << first.err;
  EXPECT_THAT(first.out, ::testing::HasSubstr("preview: 16 seen examples (epoch 3)"));
  const std::string training = read_file(dir.path() + "/preview/training.png");
  const std::string evaluation = read_file(dir.path() + "/preview/evaluation.png");
  for (const std::string* png : {&training, &evaluation}) {
    const data::DecodeResult grid = data::decode_image(*png, 1);
    ASSERT_TRUE(grid.image) << grid.problem;
    EXPECT_EQ(grid.image->width, 8 * 28 + 9 * 2);  // 8 columns of 28 x 28 with 2-pixel gaps
    EXPECT_EQ(grid.image->height, 2 * 28 + 3 * 2);
  }
  EXPECT_NE(training, evaluation);  // crops, flips and mixing change what training sees
  const auto index = nlohmann::json::parse(read_file(dir.path() + "/preview/preview.json"));
  EXPECT_EQ(index["cells"].size(), 16u);
  EXPECT_FALSE(index["mixing"].is_null());
  EXPECT_EQ(index["augment"], nlohmann::json({"random_resized_crop", "horizontal_flip", "rand_augment"}));
  // The same command draws the same pictures; another epoch other augmentations.
  ASSERT_EQ(run_stratum(args).exit_code, 0);
  EXPECT_EQ(read_file(dir.path() + "/preview/training.png"), training);
  ASSERT_EQ(run_stratum(base + " --count 16 --epoch 4 --out " + dir.path() + "/other").exit_code, 0);
  EXPECT_NE(read_file(dir.path() + "/other/training.png"), training);
  EXPECT_EQ(read_file(dir.path() + "/other/evaluation.png"), evaluation);
  // Not images, or a bad count: one-line errors.
  const CommandResult text = run_stratum("data preview --config configs/smoke.yaml --out " + dir.path() + "/x --set data.source=synthetic");
  EXPECT_EQ(text.exit_code, 2) << text.out << text.err;
  EXPECT_THAT(text.err, ::testing::HasSubstr("not images; preview draws image examples"));
  EXPECT_EQ(run_stratum(base + " --count 0 --out " + dir.path() + "/y").exit_code, 2);
}

TEST(ImageFolderRuns, MixupWhereInputsCannotBeBlendedIsAnError) {
  TempDir dir;
  const CommandResult text = run_stratum("train --config configs/text-classifier-fortunes.yaml --set run.output_dir=" +
                                         dir.path() + " --set data.max_records=300 --set trainer.mixup.mixup_alpha=0.8");
  EXPECT_EQ(text.exit_code, 2) << text.out << text.err;
  EXPECT_THAT(text.err, ::testing::HasSubstr("trainer.mixup.mixup_alpha: Mixup and CutMix blend float inputs (images, "
                                             "features); this data is token ids"));
  const CommandResult features = run_stratum("train --config configs/synthetic-drift.yaml --set run.output_dir=" +
                                             dir.path() + " --set data.synthetic.records=2000 "
                                             "--set trainer.mixup.cutmix_alpha=1.0");
  EXPECT_EQ(features.exit_code, 2) << features.out << features.err;
  EXPECT_THAT(features.err, ::testing::HasSubstr("trainer.mixup.cutmix_alpha: CutMix pastes image patches"));
}

}  // namespace
}  // namespace stratum::testing
