#include "data/idx_source.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>
#include <set>

#include "core/error.h"
#include "data/idx_fixtures.h"
#include "support/temp_dir.h"

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

TEST(IdxSource, SplitsAreDisjointAndCoverTheTrainingFile) {
  TempDir dir;
  write_folder(dir, 200, 30, 200);
  DataSection options;
  options.path = dir.path();
  options.validation_fraction = 0.25;
  const SplitData data = read_idx_source(options, 42);
  EXPECT_EQ(data.seen.size() + data.validation.size(), 200);
  EXPECT_GT(data.validation.size(), 25);
  EXPECT_LT(data.validation.size(), 75);
  EXPECT_EQ(data.unseen.size(), 30);
  EXPECT_EQ(data.spec.input_shape, (std::vector<int64_t>{1, 4, 4}));
  EXPECT_EQ(data.spec.num_classes, 3);
  // The seen split is normalized to zero mean and unit standard deviation.
  EXPECT_NEAR(data.seen.inputs.mean().item<double>(), 0.0, 1e-4);
  EXPECT_NEAR(data.seen.inputs.std().item<double>(), 1.0, 1e-3);

  int64_t validation = 0;
  for (uint64_t i = 0; i < 200; ++i) validation += in_validation(i, 42, 0.25);
  EXPECT_EQ(validation, data.validation.size());
  EXPECT_EQ(read_idx_source(options, 42).validation.size(), data.validation.size());  // deterministic
}

TEST(IdxSource, MaxRecordsLimitsTheTrainingStream) {
  TempDir dir;
  write_folder(dir, 200, 30, 200);
  DataSection options;
  options.path = dir.path();
  options.max_records = 50;
  const SplitData data = read_idx_source(options, 1);
  EXPECT_EQ(data.seen.size() + data.validation.size(), 50);
}

TEST(IdxSource, MismatchedLabelCountIsAnError) {
  TempDir dir;
  write_folder(dir, 20, 5, 19);
  DataSection options;
  options.path = dir.path();
  try {
    read_idx_source(options, 1);
    FAIL() << "expected an error";
  } catch (const UserError& e) {
    EXPECT_THAT(e.what(), HasSubstr("train-labels-idx1-ubyte.gz: 19 labels for 20 images"));
  }
}

TEST(IdxSource, MissingFolderOrFiles) {
  DataSection options;
  options.path = "/nonexistent/stratum";
  EXPECT_THROW(read_idx_source(options, 1), UserError);
  TempDir dir;
  options.path = dir.path();
  try {
    read_idx_source(options, 1);
    FAIL() << "expected an error";
  } catch (const UserError& e) {
    EXPECT_THAT(e.what(), HasSubstr("no train-images-idx3-ubyte or train-images-idx3-ubyte.gz"));
  }
}

TEST(IdxSource, RealFashionMnistSplitsAreDisjoint) {
  const std::string path = "/usr/share/datasets/fashion-mnist";
  ASSERT_TRUE(std::filesystem::is_directory(path)) << "install dataset-fashion-mnist (scripts/setup.sh does)";
  DataSection options;
  options.path = path;
  options.validation_fraction = 0.1;
  const SplitData data = read_idx_source(options, 1234);
  EXPECT_EQ(data.seen.size() + data.validation.size(), 60000);
  EXPECT_EQ(data.unseen.size(), 10000);
  EXPECT_EQ(data.spec.num_classes, 10);
  EXPECT_EQ(data.spec.class_names.at(9), "Ankle boot");
  std::set<uint64_t> validation;
  for (uint64_t i = 0; i < 60000; ++i) {
    if (in_validation(i, 1234, 0.1)) validation.insert(i);
  }
  EXPECT_EQ(static_cast<int64_t>(validation.size()), data.validation.size());
}

}  // namespace
}  // namespace stratum::data
