// source: image_list: CSV and JSONL lists of image paths (relative to the list) with a label or,
// in JSONL, a list of labels; rows naming missing or bad images, or no label, are rejected with
// their line; the list and the images it names are pinned in the manifest.

#include "data/sources/image_list_source.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>

#include "core/text.h"
#include "support/image_files.h"
#include "support/temp_dir.h"
#include "support/user_error.h"

namespace stratum::data {
namespace {

using ::testing::HasSubstr;
using testing::TempDir;

DataOptions list_options(const std::string& path) {
  DataOptions options;
  options.source = "image_list";
  options.path = path;
  options.image.size = 12;
  options.unseen.by = UnseenBy::none;
  options.validation_fraction = 0;
  options.max_reject_fraction = 0.5;
  options.workers = 1;
  return options;
}

TEST(ImageListSource, CsvRowsWithPathsRelativeToTheListAndRejectsNamingTheLine) {
  TempDir dir;
  std::filesystem::create_directories(dir.path() + "/lists/img");
  for (int i = 0; i < 6; ++i) {
    dir.write("lists/img/" + std::to_string(i) + ".png", testing::encode_png(testing::test_pattern(16, 20, 3, i), 16, 20, 3));
  }
  dir.write("lists/img/bad.png", "garbage");
  const std::string csv = dir.write("lists/train.csv",
                                    "path,label,note\n"
                                    "img/0.png,cat,a\n"
                                    "img/1.png,dog,\"quoted, note\"\n"
                                    "img/2.png,cat,\n"
                                    "img/missing.png,dog,\n"
                                    "img/bad.png,cat,\n"
                                    "img/3.png,,\n"
                                    "img/4.png,emu,\n"
                                    "img/5.png,dog,\n");
  DataContext context;
  context.rejects_path = dir.path() + "/rejects.jsonl";
  const SplitData data = read_image_list_source(list_options(csv), context);
  EXPECT_EQ(data.spec.class_names, (std::vector<std::string>{"cat", "dog", "emu"}));
  EXPECT_EQ(data.records_accepted, 5);
  EXPECT_EQ(data.records_rejected, 3);
  EXPECT_EQ(data.records_read, 8);
  std::map<int64_t, std::string> reasons;
  for (const std::string& line : split(testing::read_file(context.rejects_path), '\n')) {
    if (line.empty()) continue;
    const auto j = nlohmann::json::parse(line);
    reasons[j["line"].get<int64_t>()] = j["reason"];
  }
  EXPECT_THAT(reasons[5], HasSubstr("img/missing.png: "));
  EXPECT_EQ(reasons[6], "img/bad.png: not a JPEG, PNG or WebP image (unknown leading bytes)");
  EXPECT_EQ(reasons[7], "empty label");
  EXPECT_EQ(data.label_counts.at("seen"), (std::vector<int64_t>{2, 2, 1}));
  ASSERT_EQ(data.files.size(), 2u);
  EXPECT_EQ(data.files[1].sha256.size(), 64u);
  EXPECT_EQ(data.seen.gather(torch::arange(5)).inputs.sizes(), (std::vector<int64_t>{5, 3, 12, 12}));
}

TEST(ImageListSource, JsonlListsOfLabelsAreMultiLabelAndBadListsAreErrors) {
  TempDir dir;
  for (int i = 0; i < 4; ++i) dir.write(std::to_string(i) + ".png", testing::encode_png(testing::test_pattern(14, 14, 3, i), 14, 14, 3));
  const std::string path = dir.write("list.jsonl",
                                     R"({"file": "0.png", "tags": ["sky", "sea"]})" "\n"
                                     R"({"file": "1.png", "tags": ["sea"]})" "\n"
                                     R"({"file": "2.png", "tags": "sky"})" "\n"
                                     R"({"file": "3.png", "tags": []})" "\n");
  DataOptions options = list_options(path);
  options.image.path_field = "file";
  options.image.label_field = "tags";
  options.reservoir.multi_label = MultiLabel::split;
  const SplitData data = read_image_list_source(options, {});
  EXPECT_EQ(data.spec.class_names, (std::vector<std::string>{"sky", "sea"}));
  EXPECT_EQ(data.records_accepted, 3);
  EXPECT_EQ(data.records_rejected, 1);  // the empty list
  EXPECT_EQ(data.seen.size(), 4);       // split: the two-label image trains once per label
  options.image.label_field = "label";
  EXPECT_THAT(testing::user_error([&] { read_image_list_source(options, {}); }), HasSubstr("no column \"label\""));
  EXPECT_THAT(testing::user_error([&] { read_image_list_source(list_options(dir.path() + "/none.csv"), {}); }),
              HasSubstr("none.csv"));
}

}  // namespace
}  // namespace stratum::data
