// Patterns in data.path: many files read in sorted order, each its own manifest entry and its
// own provenance, compressed ones among them; whole files held out as unseen by name; a
// pattern matching nothing, or a folder, is a one-line error naming the key.

#include "data/sources/input_paths.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <torch/torch.h>
#include <zstd.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "core/text.h"
#include "data/sources/text_source.h"
#include "support/temp_dir.h"
#include "support/user_error.h"

namespace stratum::data {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::TempDir;

std::string zstd_bytes(const std::string& text) {
  std::string out(ZSTD_compressBound(text.size()), '\0');
  out.resize(ZSTD_compress(out.data(), out.size(), text.data(), text.size(), 3));
  return out;
}

// `count` JSON lines labelled by file, the `bad`-th one malformed.
std::string feed(const std::string& name, int count, int bad) {
  std::string lines;
  for (int i = 0; i < count; ++i) {
    lines += i == bad ? std::string("{not json\n")
                      : R"({"text": ")" + name + " item " + std::to_string(i) + R"(", "label": ")" + name + "\"}\n";
  }
  return lines;
}

TEST(InputPaths, PatternsExpandSortedAndBraceListsToo) {
  TempDir dir;
  std::filesystem::create_directories(dir.path() + "/b");
  for (const char* name : {"c.jsonl", "a.jsonl", "b/x.jsonl", "skip.txt"}) dir.write(name, "{}\n");
  EXPECT_THAT(input_paths(dir.path() + "/*.jsonl", "data.path"), ElementsAre(dir.path() + "/a.jsonl", dir.path() + "/c.jsonl"));
  EXPECT_THAT(input_paths(dir.path() + "/{c,b/x}.jsonl", "data.path"),
              ElementsAre(dir.path() + "/b/x.jsonl", dir.path() + "/c.jsonl"));
  EXPECT_THAT(input_paths(dir.path() + "/*", "data.path"),  // the folder b/ is not a file
              ElementsAre(dir.path() + "/a.jsonl", dir.path() + "/c.jsonl", dir.path() + "/skip.txt"));
  EXPECT_THAT(input_paths("-", "data.path"), ElementsAre("-"));
  EXPECT_TRUE(is_glob("logs/*.gz"));
  EXPECT_TRUE(is_glob("{a,b}.jsonl"));
  EXPECT_FALSE(is_glob("plain{1}.jsonl"));
  EXPECT_EQ(testing::user_error([&] { input_paths(dir.path() + "/*.parquet", "data.sources[1].path"); }),
            "data.sources[1].path: " + dir.path() + "/*.parquet: the pattern matches no files");
  EXPECT_THAT(testing::user_error([&] { input_paths(dir.path() + "/b", "data.path"); }),
              HasSubstr("data.path: " + dir.path() + "/b: is a folder, not a file"));
  EXPECT_EQ(testing::user_error([&] { input_paths(dir.path() + "/none.jsonl", "data.path"); }),
            "data.path: " + dir.path() + "/none.jsonl: no such file");
}

TEST(InputPaths, ATextSourceReadsEveryMatchedFileWithItsOwnProvenance) {
  TempDir dir;
  dir.write("feed-1.jsonl", feed("one", 120, 5));
  dir.write("feed-2.jsonl.zst", zstd_bytes(feed("two", 80, 70)));
  dir.write("feed-3.jsonl.gz.txt", "ignored: the pattern does not match it\n");
  DataOptions options;
  options.source = "text";
  options.path = dir.path() + "/feed-*.jsonl*";
  options.text.format = TextFormat::jsonl;
  options.unseen.by = UnseenBy::none;
  options.validation_fraction = 0;
  options.max_reject_fraction = 0.05;
  DataContext context;
  context.rejects_path = dir.path() + "/rejects.jsonl";
  const SplitData data = read_text_source(options, context);
  ASSERT_EQ(data.files.size(), 3u);  // feed-3 matches feed-*.jsonl* too: its one line is rejected
  EXPECT_EQ(data.files[0].path, dir.path() + "/feed-1.jsonl");
  EXPECT_EQ(data.files[1].path, dir.path() + "/feed-2.jsonl.zst");
  EXPECT_EQ(data.files[0].records_read, 120);
  EXPECT_EQ(data.files[1].records_read, 80);
  EXPECT_EQ(data.files[2].records_rejected, 1);
  EXPECT_EQ(data.records_read, 201);
  EXPECT_EQ(data.records_rejected, 3);
  EXPECT_EQ(data.records_read, data.records_accepted + data.records_rejected);
  // Every reject names its own file and line.
  std::vector<std::string> where;
  for (const std::string& line : split(testing::read_file(context.rejects_path), '\n')) {
    if (line.empty()) continue;
    const auto j = nlohmann::json::parse(line);
    where.push_back(std::filesystem::path(j["source"].get<std::string>()).filename().string() + ":" +
                    std::to_string(j["line"].get<int64_t>()));
  }
  EXPECT_THAT(where, ElementsAre("feed-1.jsonl:6", "feed-2.jsonl.zst:71", "feed-3.jsonl.gz.txt:1"));
  const auto manifest = nlohmann::json::parse(data.manifest);
  ASSERT_EQ(manifest["files"].size(), 3u);
  EXPECT_EQ(manifest["files"][1]["bytes"], std::filesystem::file_size(dir.path() + "/feed-2.jsonl.zst"));
  EXPECT_EQ(data.spec.class_names, (std::vector<std::string>{"one", "two"}));
}

TEST(InputPaths, WholeFilesOfAPatternAreHeldOutAsUnseenByName) {
  TempDir dir;
  dir.write("a.jsonl", feed("x", 60, -1));
  dir.write("b.jsonl", feed("y", 40, -1));
  DataOptions options;
  options.source = "text";
  options.path = dir.path() + "/*.jsonl";
  options.text.format = TextFormat::jsonl;
  options.labels = {"x", "y"};
  options.unseen.by = UnseenBy::source;
  options.unseen.sources = {"b.jsonl"};
  const SplitData data = read_text_source(options, DataContext{});
  EXPECT_EQ(data.unseen.size(), 40);
  EXPECT_TRUE((data.unseen.targets == 1).all().item<bool>());
  options.unseen.sources = {"c.jsonl"};
  EXPECT_THAT(testing::user_error([&] { read_text_source(options, DataContext{}); }),
              HasSubstr("data.unseen.sources: no input file \"c.jsonl\" among the 2 that "));
  options.path = dir.path() + "/a.jsonl";  // one file: nothing to hold out by source
  EXPECT_THAT(testing::user_error([&] { read_text_source(options, DataContext{}); }),
              HasSubstr("data.unseen.by: \"source\" is not available for this text source"));
}

}  // namespace
}  // namespace stratum::data
