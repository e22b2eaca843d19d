// source: image_folder: classes from sorted folder names, JPEG / PNG / WebP decoded and kept at
// the configured size, every bad file rejected with its reason (read = accepted + rejected),
// evaluation examples centered and fixed, training examples augmented from (seed, epoch,
// index) whatever the number of worker threads.

#include "data/sources/image_folder_source.h"

#include "data/images/image_store.h"
#include "data/sources/idx_source.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "core/text.h"
#include "support/image_files.h"
#include "support/temp_dir.h"
#include "support/user_error.h"

namespace stratum::data {
namespace {

using ::testing::HasSubstr;
using testing::TempDir;

// ROOT/cat (12 PNG), ROOT/dog (12 JPEG), ROOT/emu (4 WebP + 1 gray PNG), and the bad ones.
std::string make_folder(const TempDir& dir) {
  const std::string root = dir.path() + "/images";
  for (const char* c : {"dog", "cat", "emu", "fox"}) std::filesystem::create_directories(root + "/" + c);
  for (int i = 0; i < 12; ++i) {
    dir.write("images/cat/" + std::to_string(i) + ".png", testing::encode_png(testing::test_pattern(40, 30, 3, i), 40, 30, 3));
    dir.write("images/dog/" + std::to_string(i) + ".JPG", testing::encode_jpeg(testing::test_pattern(24, 50, 3, 50 + i), 24, 50, 3));
  }
  for (int i = 0; i < 4; ++i) {
    dir.write("images/emu/" + std::to_string(i) + ".webp", testing::encode_webp_lossless(testing::test_pattern(33, 33, 3, 90 + i), 33, 33));
  }
  dir.write("images/emu/gray.png", testing::encode_png(testing::test_pattern(20, 20, 1, 7), 20, 20, 1));
  // The bad: empty, truncated, not an image, a PNG named .jpg, a declared bomb; notes are skipped.
  dir.write("images/fox/empty.png", "");
  const std::string png = testing::encode_png(testing::test_pattern(40, 40, 3, 3), 40, 40, 3);
  dir.write("images/fox/cut.png", png.substr(0, png.size() / 3));
  dir.write("images/fox/text.jpg", "not an image at all");
  dir.write("images/fox/named.jpg", png);
  dir.write("images/fox/bomb.png", testing::png_header_only(60000, 60000));
  dir.write("images/fox/notes.txt", "ignored: not an image by name");
  return root;
}

DataOptions image_options(const std::string& root) {
  DataOptions options;
  options.source = "image_folder";
  options.path = root;
  options.image.size = 16;
  options.image.resize = 20;
  options.unseen.by = UnseenBy::none;
  options.validation_fraction = 0;
  options.max_reject_fraction = 0.5;
  options.workers = 2;
  return options;
}

TEST(ImageFolderSource, ClassesFromFoldersAndEveryBadFileRejectedWithItsReason) {
  TempDir dir;
  const std::string root = make_folder(dir);
  DataContext context;
  context.rejects_path = dir.path() + "/rejects.jsonl";
  const SplitData data = read_image_folder_source(image_options(root), context);
  EXPECT_EQ(data.spec.class_names, (std::vector<std::string>{"cat", "dog", "emu", "fox"}));
  EXPECT_EQ(data.spec.input_shape, (std::vector<int64_t>{3, 16, 16}));
  EXPECT_EQ(data.records_accepted, 29);
  EXPECT_EQ(data.records_rejected, 5);
  EXPECT_EQ(data.records_read, data.records_accepted + data.records_rejected);
  EXPECT_EQ(data.seen.size(), 29);
  std::map<std::string, std::string> reasons;
  for (const std::string& line : split(testing::read_file(context.rejects_path), '\n')) {
    if (line.empty()) continue;
    const auto j = nlohmann::json::parse(line);
    reasons[std::filesystem::path(j["source"].get<std::string>()).filename().string()] = j["reason"];
  }
  EXPECT_EQ(reasons["empty.png"], "empty file (0 bytes)");
  EXPECT_THAT(reasons["cut.png"], HasSubstr("corrupt or truncated PNG data"));
  EXPECT_EQ(reasons["text.jpg"], "not a JPEG, PNG or WebP image (unknown leading bytes)");
  EXPECT_EQ(reasons["named.jpg"], "a png image named .jpg");
  EXPECT_THAT(reasons["bomb.png"], HasSubstr("60000x60000 pixels is over data.image.max_pixels"));
  EXPECT_EQ(reasons.size(), 5u);
  // Per class folder: what was read, and a hash over file names and contents.
  ASSERT_EQ(data.files.size(), 4u);
  EXPECT_EQ(data.files[0].role, "class cat");
  EXPECT_EQ(data.files[0].records_accepted, 12);
  EXPECT_EQ(data.files[3].records_rejected, 5);
  EXPECT_EQ(data.files[0].sha256.size(), 64u);
  // Labels of the seen split, counted per class.
  EXPECT_EQ(data.label_counts.at("seen"), (std::vector<int64_t>{12, 12, 5, 0}));
  // Standardized with the seen split's own per-channel statistics.
  ASSERT_EQ(data.spec.input_mean.size(), 3u);
  const Batch all = data.seen.gather(torch::arange(29));
  EXPECT_EQ(all.inputs.sizes(), (std::vector<int64_t>{29, 3, 16, 16}));
  EXPECT_NEAR(all.inputs.mean().item<double>(), 0.0, 1e-4);
  EXPECT_NEAR(all.inputs.std().item<double>(), 1.0, 0.05);
}

// Decoding runs on data.workers threads a batch at a time, but everything after it keeps the
// stream's order: the same records, rejects (in the same order), counts and splits with 1 or 4
// workers, also when data.max_records stops the read in the middle of a batch.
TEST(ImageFolderSource, DecodingOnWorkersKeepsTheStreamOrder) {
  TempDir dir;
  const std::string root = make_folder(dir);
  for (const int64_t max_records : {int64_t{0}, int64_t{17}}) {
    std::vector<std::string> rejects;
    std::vector<torch::Tensor> inputs;
    std::vector<int64_t> read;
    for (const int64_t workers : {1, 4}) {
      DataOptions options = image_options(root);
      options.workers = workers;
      options.max_records = max_records;
      DataContext context;
      context.rejects_path = dir.path() + "/rejects-" + std::to_string(workers) + ".jsonl";
      const SplitData data = read_image_folder_source(options, context);
      rejects.push_back(testing::read_file(context.rejects_path));
      inputs.push_back(data.seen.gather(torch::arange(data.seen.size())).inputs);
      read.push_back(data.records_read);
    }
    EXPECT_EQ(rejects[0], rejects[1]) << "max_records " << max_records;
    EXPECT_EQ(read[0], read[1]) << "max_records " << max_records;
    EXPECT_TRUE(torch::equal(inputs[0], inputs[1])) << "max_records " << max_records;
    EXPECT_EQ(read[0], max_records == 0 ? 34 : 17 + std::count(rejects[0].begin(), rejects[0].end(), '\n'));
  }
}

TEST(ImageFolderSource, TrainingExamplesAreAugmentedFromSeedEpochAndIndexOnly) {
  TempDir dir;
  const std::string root = make_folder(dir);
  DataOptions options = image_options(root);
  options.image.augment = {ImageAugmentation::random_resized_crop, ImageAugmentation::horizontal_flip,
                           ImageAugmentation::rand_augment, ImageAugmentation::color_jitter};
  options.image.mean = {0.5, 0.5, 0.5};
  options.image.std = {0.25, 0.25, 0.25};
  DataContext context;
  const SplitData one = read_image_folder_source(options, context);
  options.workers = 5;
  const SplitData five = read_image_folder_source(options, context);
  const torch::Tensor index = torch::tensor({3, 0, 17, 28, 5, 5, 11, 20}, torch::kInt64);
  const Batch a = one.seen.gather_training(index, 2), b = five.seen.gather_training(index, 2);
  EXPECT_TRUE(torch::equal(a.inputs, b.inputs)) << "worker threads changed the augmentation";
  EXPECT_TRUE(torch::equal(a.targets, b.targets));
  EXPECT_TRUE(torch::equal(a.inputs[4], a.inputs[5]));  // the same example in one epoch: the same draw
  EXPECT_FALSE(torch::equal(a.inputs, one.seen.gather_training(index, 3).inputs));  // another epoch
  EXPECT_FALSE(torch::equal(a.inputs, one.seen.gather(index).inputs));  // evaluation is not augmented
  EXPECT_TRUE(torch::equal(one.seen.gather(index).inputs, five.seen.gather(index).inputs));
  // Configured normalization: (x - 0.5) / 0.25 lies in [-2, 2].
  EXPECT_LE(a.inputs.abs().max().item<double>(), 2.0 + 1e-6);
  // Over many draws, flips happen about half the time: compare each draw with its mirror image.
  int flipped = 0, draws = 0;
  DataOptions flip_only = image_options(root);
  flip_only.image.augment = {ImageAugmentation::horizontal_flip};
  const SplitData flips = read_image_folder_source(flip_only, context);
  const torch::Tensor plain = flips.seen.gather(torch::arange(29)).inputs;
  for (int64_t epoch = 0; epoch < 20; ++epoch) {
    const torch::Tensor drawn = flips.seen.gather_training(torch::arange(29), epoch).inputs;
    for (int64_t i = 0; i < 29; ++i, ++draws) flipped += !torch::equal(drawn[i], plain[i]);
  }
  EXPECT_NEAR(static_cast<double>(flipped) / draws, 0.5, 0.08);  // 580 draws: sd 0.02
}

TEST(ImageFolderSource, BadFoldersAndSettingsAreErrorsNamingTheKey) {
  TempDir dir;
  const std::string root = make_folder(dir);
  DataOptions options = image_options(dir.path() + "/missing");
  EXPECT_THAT(testing::user_error([&] { read_image_folder_source(options, {}); }), HasSubstr("data.path: "));
  std::filesystem::create_directories(dir.path() + "/hollow/none");
  dir.write("hollow/none/readme.txt", "no images here");
  options = image_options(dir.path() + "/hollow");
  EXPECT_THAT(testing::user_error([&] { read_image_folder_source(options, {}); }), HasSubstr("no usable images"));
  std::filesystem::create_directories(dir.path() + "/flat");
  dir.write("flat/a.png", "x");
  options = image_options(dir.path() + "/flat");
  EXPECT_THAT(testing::user_error([&] { read_image_folder_source(options, {}); }), HasSubstr("no class folders"));
  options = image_options(root);
  options.image.resize = 8;
  EXPECT_THAT(testing::user_error([&] { read_image_folder_source(options, {}); }),
              HasSubstr("data.image.resize: 8 is smaller than data.image.size (16)"));
  options = image_options(root);
  options.image.augment = {ImageAugmentation::horizontal_flip, ImageAugmentation::random_resized_crop};
  EXPECT_THAT(testing::user_error([&] { read_image_folder_source(options, {}); }),
              HasSubstr("data.image.augment: random_resized_crop must come first"));
  options = image_options(root);
  options.image.augment = {ImageAugmentation::color_jitter, ImageAugmentation::rand_augment};
  EXPECT_THAT(testing::user_error([&] { read_image_folder_source(options, {}); }),
              HasSubstr("data.image.augment: rand_augment works on 8-bit pixels; list it before color_jitter"));
  options = image_options(root);
  options.image.rand_augment_magnitude = 31;
  EXPECT_EQ(testing::user_error([&] { read_image_folder_source(options, {}); }),
            "data.image.rand_augment_magnitude: 31 is not a bin of rand_augment_bins (31): at most 30");
  options = image_options(root);
  options.image.crop_scale = {0.9, 0.1};
  EXPECT_THAT(testing::user_error([&] { read_image_folder_source(options, {}); }), HasSubstr("data.image.crop_scale"));
  options = image_options(root);
  options.image.mean = {0.5};
  EXPECT_THAT(testing::user_error([&] { read_image_folder_source(options, {}); }),
              HasSubstr("data.image.mean: 1 values for 3 channels"));
  options = image_options(root);
  options.unseen.by = UnseenBy::file;
  EXPECT_THAT(testing::user_error([&] { read_image_folder_source(options, {}); }),
              HasSubstr("data.unseen.by: \"file\" is not available for image sources"));
}

// Fashion-MNIST's first 500 t10k images exported by Pillow as PNG and as JPEG files read back as
// the IDX source has them: the same labels, and for PNG the same pixels.
TEST(ImageFolderSource, FashionMnistExportedAsPngAndJpegMatchesTheIdxSource) {
  const std::string python = std::string(STRATUM_SOURCE_DIR) + "/.venv/bin/python";
  ASSERT_TRUE(std::filesystem::exists(python)) << python << " is missing: run scripts/setup.sh";
  const std::string idx = "/usr/share/datasets/fashion-mnist";
  TempDir dir;
  for (const char* ext : {"png", "jpg"}) {
    const auto made = testing::run_command("'" + python + "' '" + STRATUM_SOURCE_DIR + "/scripts/export_fashion_mnist.py' " +
                                           idx + " '" + dir.path() + "/" + ext + "' 500 " + ext);
    ASSERT_EQ(made.exit_code, 0) << made.err;
  }
  DataOptions from_idx;
  from_idx.source = "idx";
  from_idx.path = idx;
  from_idx.validation_fraction = 0;
  from_idx.max_records = 100;  // only the t10k file (unseen) is compared
  const SplitData reference = read_idx_source(from_idx, {});
  const torch::Tensor raw = ((reference.unseen.inputs * reference.spec.input_std[0] + reference.spec.input_mean[0]) * 255)
                                .round()
                                .to(torch::kUInt8);
  for (const char* ext : {"png", "jpg"}) {
    DataOptions options = image_options(dir.path() + "/" + ext);
    options.image.size = 28;
    options.image.resize = 0;
    options.image.channels = 1;
    const SplitData data = read_image_folder_source(options, {});
    ASSERT_EQ(data.seen.size(), 500) << ext;
    const auto* store = dynamic_cast<const ImageStore*>(data.seen.store.get());
    ASSERT_NE(store, nullptr);
    double error = 0;
    for (int64_t i = 0; i < 500; ++i) {
      // The file's name is its t10k index; origin: (class folder, position in it).
      const Provenance origin = data.seen.origins[static_cast<size_t>(i)];
      const std::string folder = dir.path() + "/" + ext + "/" + data.spec.class_names[origin.source];
      std::vector<std::string> names;
      for (const auto& entry : std::filesystem::directory_iterator(folder)) names.push_back(entry.path().filename().string());
      std::sort(names.begin(), names.end());
      const int64_t t10k = std::stoll(names[origin.offset].substr(0, 5));
      std::string expected_label = data.spec.class_names[origin.source];
      std::replace(expected_label.begin(), expected_label.end(), '_', '/');
      ASSERT_EQ(expected_label, reference.spec.class_names[static_cast<size_t>(reference.unseen.targets[t10k].item<int64_t>())]);
      ASSERT_EQ(data.seen.targets[i].item<int64_t>(), origin.source);
      const Image& kept = store->image(i);
      const torch::Tensor pixels = torch::from_blob(const_cast<uint8_t*>(kept.pixels.data()), {1, 28, 28}, torch::kUInt8);
      const double difference = (pixels.to(torch::kFloat32) - raw[t10k].to(torch::kFloat32)).abs().mean().item<double>();
      if (std::string(ext) == "png") {
        ASSERT_EQ(difference, 0.0) << "t10k image " << t10k;
      }
      error += difference;
    }
    std::printf("%s: mean absolute pixel difference from the IDX source %.3f\n", ext, error / 500);
    if (std::string(ext) == "jpg") {
      EXPECT_LT(error / 500, 3.0);
    }
  }
}

}  // namespace
}  // namespace stratum::data
