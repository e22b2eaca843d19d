#include "data/sources/idx_source.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>

#include "core/error.h"
#include "data/hash.h"
#include "data/idx_fixtures.h"
#include "support/temp_dir.h"
#include "support/user_error.h"

namespace stratum::data {
namespace {

using ::testing::HasSubstr;
using testing::TempDir;

void write_folder(const TempDir& dir, uint32_t train, uint32_t test, uint32_t train_labels) {
  dir.write("train-images-idx3-ubyte", testing::idx_bytes({train, 4, 4}));
  testing::write_gzip(dir.path() + "/train-labels-idx1-ubyte.gz", testing::idx_labels(train_labels, 3));
  dir.write("t10k-images-idx3-ubyte", testing::idx_bytes({test, 4, 4}, 7));
  dir.write("t10k-labels-idx1-ubyte", testing::idx_labels(test, 3));
}

DataContext context(uint64_t seed, const std::string& rejects = "") {
  DataContext c;
  c.seed = seed;
  c.rejects_path = rejects;
  return c;
}

// Hashes of each example's input bytes, to compare splits.
std::set<uint64_t> example_hashes(const TensorDataset& d) {
  std::set<uint64_t> out;
  const torch::Tensor flat = d.inputs.reshape({d.size(), -1}).contiguous();
  for (int64_t i = 0; i < d.size(); ++i) out.insert(content_hash(flat[i].data_ptr<float>(), flat.size(1) * sizeof(float)));
  return out;
}

TEST(IdxSource, SplitsAreDisjointAndCoverTheTrainingFile) {
  TempDir dir;
  write_folder(dir, 200, 30, 200);
  data::DataOptions options;
  options.path = dir.path();
  options.validation_fraction = 0.25;
  const SplitData data = read_idx_source(options, context(42));
  EXPECT_EQ(data.seen.size() + data.validation.size(), 200);
  EXPECT_GT(data.validation.size(), 25);
  EXPECT_LT(data.validation.size(), 75);
  EXPECT_EQ(data.unseen.size(), 30);
  EXPECT_EQ(data.spec.input_shape, (std::vector<int64_t>{1, 4, 4}));
  EXPECT_EQ(data.spec.num_classes, 3);
  // The seen split is normalized to zero mean and unit standard deviation.
  EXPECT_NEAR(data.seen.inputs.mean().item<double>(), 0.0, 1e-4);
  EXPECT_NEAR(data.seen.inputs.std().item<double>(), 1.0, 1e-3);
  const auto seen = example_hashes(data.seen), validation = example_hashes(data.validation);
  for (uint64_t h : validation) EXPECT_EQ(seen.count(h), 0u);
  EXPECT_EQ(read_idx_source(options, context(42)).validation.size(), data.validation.size());  // deterministic
  EXPECT_EQ(data.label_counts.at("unseen"), (std::vector<int64_t>{10, 10, 10}));
}

TEST(IdxSource, MaxRecordsAndRankShards) {
  TempDir dir;
  write_folder(dir, 200, 30, 200);
  data::DataOptions options;
  options.path = dir.path();
  options.max_records = 50;
  const SplitData data = read_idx_source(options, context(1));
  EXPECT_EQ(data.seen.size() + data.validation.size(), 50);

  options.max_records = 0;
  options.validation_fraction = 0;
  DataContext rank0 = context(1), rank1 = context(1);
  rank0.world_size = rank1.world_size = 2;
  rank1.rank = 1;
  const auto a = example_hashes(read_idx_source(options, rank0).seen);
  const auto b = example_hashes(read_idx_source(options, rank1).seen);
  EXPECT_EQ(a.size(), 100u);
  EXPECT_EQ(b.size(), 100u);
  for (uint64_t h : a) EXPECT_EQ(b.count(h), 0u) << "ranks read disjoint shares";
}

TEST(IdxSource, ReservoirsBalanceAndBoundTheSeenSplit) {
  TempDir dir;
  write_folder(dir, 3000, 30, 3000);
  data::DataOptions options;
  options.path = dir.path();
  options.validation_fraction = 0;
  options.reservoir.max_items = 600;
  options.reservoir.min_per_label = 50;
  options.reservoir.max_per_label = 150;
  options.reservoir.label_share_cap = 1.0;
  const SplitData data = read_idx_source(options, context(3));
  EXPECT_EQ(data.seen.size(), 450);  // three labels at their 150 cap
  EXPECT_EQ(data.label_counts.at("seen"), (std::vector<int64_t>{150, 150, 150}));
  EXPECT_EQ(data.sampler.offered, 3000);
  const auto manifest = nlohmann::json::parse(data.manifest);
  EXPECT_EQ(manifest["reservoir"]["offered"], 3000);
  EXPECT_EQ(manifest["files"].size(), 4u);
  EXPECT_EQ(manifest["files"][0]["sha256"].get<std::string>().size(), 64u);
}

TEST(IdxSource, UnlabeledImagesAreRejectedCountedAndBudgeted) {
  TempDir dir;
  write_folder(dir, 20, 5, 19);
  data::DataOptions options;
  options.path = dir.path();
  options.max_reject_fraction = 0.01;
  const std::string error =
      testing::user_error([&] { read_idx_source(options, context(1, dir.path() + "/rejects.jsonl")); });
  EXPECT_THAT(error, HasSubstr("1 of 25 records rejected"));
  EXPECT_THAT(error, HasSubstr("train-images-idx3-ubyte at offset 320: image without a label"));
  options.max_reject_fraction = 0.1;
  const SplitData data = read_idx_source(options, context(1, dir.path() + "/rejects.jsonl"));
  EXPECT_EQ(data.seen.size() + data.validation.size(), 19);
  const auto line = nlohmann::json::parse(testing::read_file(dir.path() + "/rejects.jsonl"));
  EXPECT_EQ(line["records"], 1);
  EXPECT_EQ(line["offset"], 320);
  EXPECT_THAT(line["reason"].get<std::string>(), HasSubstr("image without a label"));
}

TEST(IdxSource, TruncatedImageFileKeepsCompleteRecords) {
  TempDir dir;
  write_folder(dir, 100, 5, 100);
  const std::string bytes = testing::idx_bytes({100, 4, 4});
  dir.write("train-images-idx3-ubyte", bytes.substr(0, 16 + 90 * 16 + 5));  // 90 whole images and a bit
  data::DataOptions options;
  options.path = dir.path();
  options.max_reject_fraction = 0.2;
  const SplitData data = read_idx_source(options, context(1, dir.path() + "/rejects.jsonl"));
  EXPECT_EQ(data.seen.size() + data.validation.size(), 90);
  const std::string rejects = testing::read_file(dir.path() + "/rejects.jsonl");
  EXPECT_THAT(rejects, HasSubstr("truncated IDX file: 90 of 100 rows complete"));
  EXPECT_THAT(rejects, HasSubstr("\"records\":10"));  // each lost record counted once
}

TEST(IdxSource, FashionLabelsOutsideTheTenClassesAreRejectedAtReadTime) {
  TempDir root;
  std::filesystem::create_directory(root.path() + "/fashion-copy");
  const std::string dir = root.path() + "/fashion-copy";
  std::string labels = testing::idx_labels(200, 10);
  labels[8 + 17] = static_cast<char>(200);  // record 17's label
  labels[8 + 90] = static_cast<char>(10);
  testing::write_gzip(dir + "/train-labels-idx1-ubyte.gz", labels);
  testing::write_gzip(dir + "/train-images-idx3-ubyte.gz", testing::idx_bytes({200, 4, 4}));
  testing::write_gzip(dir + "/t10k-images-idx3-ubyte.gz", testing::idx_bytes({20, 4, 4}));
  testing::write_gzip(dir + "/t10k-labels-idx1-ubyte.gz", testing::idx_labels(20, 10));
  data::DataOptions options;
  options.path = dir;
  options.max_reject_fraction = 0.05;
  const SplitData data = read_idx_source(options, context(1, root.path() + "/rejects.jsonl"));
  EXPECT_EQ(data.spec.num_classes, 10);
  EXPECT_EQ(data.records_rejected, 2);
  EXPECT_EQ(data.records_read, 220);
  EXPECT_EQ(data.seen.targets.max().item<int64_t>(), 9);
  const std::string rejects = testing::read_file(root.path() + "/rejects.jsonl");
  EXPECT_THAT(rejects, HasSubstr("label 200 is not one of the 10 classes (0-9)"));
  EXPECT_THAT(rejects, HasSubstr("\"offset\":25"));  // the label's byte in its file
}

TEST(IdxSource, AHeaderPromisingAbsentImagesCountsEachMissingRecordOnce) {
  TempDir dir;
  write_folder(dir, 50, 5, 50);
  // The images header claims 3,000,000 rows; 50 are there. The labels file has 50.
  std::string images = testing::idx_bytes({50, 4, 4});
  const uint32_t claimed = 3000000;
  for (int i = 0; i < 4; ++i) images[4 + i] = static_cast<char>(claimed >> (24 - 8 * i));
  dir.write("train-images-idx3-ubyte", images);
  data::DataOptions options;
  options.path = dir.path();
  options.max_reject_fraction = 1.0;
  const SplitData data = read_idx_source(options, context(1, dir.path() + "/rejects.jsonl"));
  EXPECT_EQ(data.records_rejected, claimed - 50);
  EXPECT_EQ(data.records_read, static_cast<int64_t>(claimed) + 5);
  EXPECT_EQ(data.records_accepted + data.records_rejected, data.records_read);
  EXPECT_EQ(testing::read_file(dir.path() + "/rejects.jsonl").find('\n') + 1,
            testing::read_file(dir.path() + "/rejects.jsonl").size());  // one line: counted once
  const auto manifest = nlohmann::json::parse(data.manifest);
  EXPECT_EQ(manifest["files"][0]["records_read"].get<int64_t>(),
            manifest["files"][0]["records_accepted"].get<int64_t>() + manifest["files"][0]["records_rejected"].get<int64_t>());
}

TEST(IdxSource, BrokenGzipStreamKeepsWhatDecoded) {
  TempDir dir;
  write_folder(dir, 2000, 5, 2000);
  dir.write("t10k-images-idx3-ubyte", testing::idx_bytes({5, 16, 16}));
  // Incompressible pixels (512 KiB, more than zlib decodes ahead), so the second half of the
  // gzip stream holds the second half of the images.
  std::string images = testing::idx_bytes({2000, 16, 16});
  uint64_t x = 1;
  for (size_t i = 16; i < images.size(); ++i) images[i] = static_cast<char>((x = x * 6364136223846793005ull + 1) >> 56);
  const std::string path = dir.path() + "/train-images-idx3-ubyte.gz";
  std::filesystem::remove(dir.path() + "/train-images-idx3-ubyte");
  testing::write_gzip(path, images);
  std::string compressed = testing::read_file(path);
  for (size_t i = compressed.size() / 2; i < compressed.size() - 8; ++i) compressed[i] = static_cast<char>(0x55);
  dir.write("train-images-idx3-ubyte.gz", compressed);
  data::DataOptions options;
  options.path = dir.path();
  options.max_reject_fraction = 0.9;
  const SplitData data = read_idx_source(options, context(1, dir.path() + "/rejects.jsonl"));
  EXPECT_GT(data.records_accepted, 500);
  EXPECT_LT(data.records_accepted, 1500);
  EXPECT_EQ(data.records_read, 2000 + 5);  // train and t10k
  EXPECT_EQ(data.records_accepted + data.records_rejected, data.records_read);
  EXPECT_THAT(testing::read_file(dir.path() + "/rejects.jsonl"), HasSubstr("bad gzip stream near byte"));
}

TEST(IdxSource, WrongMagicRejectsTheWholeFileAndStops) {
  TempDir dir;
  write_folder(dir, 20, 5, 20);
  dir.write("train-images-idx3-ubyte", "PK\x03\x04 this is a zip file, not IDX");
  data::DataOptions options;
  options.path = dir.path();
  const std::string error = testing::user_error([&] { read_idx_source(options, context(1)); });
  EXPECT_THAT(error, HasSubstr("not an IDX file: wrong magic number"));
}

TEST(IdxSource, MissingFolderOrFiles) {
  data::DataOptions options;
  options.path = "/nonexistent/stratum";
  EXPECT_THROW(read_idx_source(options, context(1)), UserError);
  TempDir dir;
  options.path = dir.path();
  const std::string error = testing::user_error([&] { read_idx_source(options, context(1)); });
  EXPECT_THAT(error, HasSubstr("no train-images-idx3-ubyte or train-images-idx3-ubyte.gz"));
}

TEST(IdxSource, RealFashionMnistSplitsAreDisjoint) {
  const std::string path = "/usr/share/datasets/fashion-mnist";
  ASSERT_TRUE(std::filesystem::is_directory(path)) << "install dataset-fashion-mnist (scripts/setup.sh does)";
  data::DataOptions options;
  options.path = path;
  options.validation_fraction = 0.1;
  options.reservoir.max_items = 60000;
  options.reservoir.max_per_label = 6000;
  const SplitData data = read_idx_source(options, context(1234));
  EXPECT_EQ(data.seen.size() + data.validation.size(), 60000);  // the reservoirs hold every seen record
  EXPECT_EQ(data.unseen.size(), 10000);
  EXPECT_EQ(data.spec.num_classes, 10);
  EXPECT_EQ(data.spec.class_names.at(9), "Ankle boot");
  const auto seen = example_hashes(data.seen), validation = example_hashes(data.validation);
  for (uint64_t h : validation) ASSERT_EQ(seen.count(h), 0u) << "a validation image is also in seen";
  // With the default quotas the seen split is bounded and balanced: 2,000 per label at most.
  options.reservoir = data::ReservoirOptions{};
  const SplitData sampled = read_idx_source(options, context(1234));
  for (int64_t count : sampled.label_counts.at("seen")) EXPECT_EQ(count, 2000);
}

}  // namespace
}  // namespace stratum::data
