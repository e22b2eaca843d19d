#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>

#include "core/error.h"
#include "core/text.h"
#include "data/sources/parquet_rows.h"
#include "data/sources/text_source.h"
#include "support/temp_dir.h"
#include "support/user_error.h"

namespace stratum::data {
namespace {

using ::testing::HasSubstr;
using testing::TempDir;

// Writes the fixture table as table.parquet and table.jsonl into `dir`.
void write_tables(const TempDir& dir, int rows, int row_group) {
  ASSERT_TRUE(parquet_available()) << "this build has no Parquet support: run scripts/setup.sh (pyarrow), then rebuild";
  const std::string python = std::string(STRATUM_SOURCE_DIR) + "/.venv/bin/python";
  ASSERT_TRUE(std::filesystem::exists(python)) << python << " is missing: run scripts/setup.sh";
  const testing::CommandResult made =
      testing::run_command("'" + python + "' '" + STRATUM_SOURCE_DIR + "/scripts/parity/parquet_fixture.py' '" + dir.path() +
                           "' " + std::to_string(rows) + " " + std::to_string(row_group));
  ASSERT_EQ(made.exit_code, 0) << made.err;
}

DataOptions table_options(const std::string& path, const std::string& source) {
  DataOptions options;
  options.source = source;
  options.path = path;
  options.text.format = TextFormat::jsonl;
  options.text.label_fields = {"tags"};
  options.text.time_field = "ts";
  options.text.feature_fields = {"score"};
  options.unseen.by = UnseenBy::none;
  options.max_reject_fraction = 0.2;
  return options;
}

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

// A Parquet table and the JSONL of the same rows give the same splits: the same examples,
// labels (several per row), times (timestamps in seconds), features and slice fields (a
// dictionary-encoded column, a struct member), the same rejects for the same reasons, while
// a column of a type Stratum does not read (binary) is never decoded.
TEST(ParquetSource, RowsBecomeTheRecordsTheirJsonlWouldGive) {
  TempDir dir;
  ASSERT_NO_FATAL_FAILURE(write_tables(dir, 1000, 128));  // eight row groups, the last one short
  DataContext context;
  context.slice_fields = {"region", "user.age"};
  context.rejects_path = dir.path() + "/rejects-jsonl.jsonl";
  const SplitData jsonl = read_text_source(table_options(dir.path() + "/table.jsonl", "text"), context);
  context.rejects_path = dir.path() + "/rejects-parquet.jsonl";
  const SplitData parquet = read_parquet_source(table_options(dir.path() + "/table.parquet", "parquet"), context);

  EXPECT_EQ(parquet.records_read, 1000);
  EXPECT_EQ(parquet.records_rejected, jsonl.records_rejected);
  EXPECT_EQ(parquet.records_accepted + parquet.records_rejected, parquet.records_read);
  EXPECT_GT(parquet.records_rejected, 10);
  EXPECT_EQ(parquet.spec.class_names, jsonl.spec.class_names);
  EXPECT_EQ(parquet.spec.class_names, (std::vector<std::string>{"ham", "spam", "urgent"}));
  for (const auto& [name, a, b] : {std::tuple{"seen", &parquet.seen, &jsonl.seen},
                                   std::tuple{"validation", &parquet.validation, &jsonl.validation}}) {
    ASSERT_GT(a->size(), 0) << name;
    ASSERT_EQ(a->size(), b->size()) << name;
    EXPECT_TRUE(torch::equal(a->inputs, b->inputs)) << name;
    EXPECT_TRUE(torch::equal(a->targets, b->targets)) << name;
    EXPECT_EQ(a->times, b->times) << name;
    EXPECT_EQ(a->fields, b->fields) << name;
  }
  EXPECT_EQ(parquet.seen.fields[0].size(), 2u);
  EXPECT_EQ(parquet.seen.fields[0][1].front(), '2');  // user.age 20..69, from the struct column

  // The same rows rejected for the same reasons; Parquet names them by 0-based row.
  std::vector<std::string> jsonl_rejects, parquet_rejects;
  for (const std::string& line : split(slurp(dir.path() + "/rejects-jsonl.jsonl"), '\n')) {
    if (!line.empty()) jsonl_rejects.push_back(nlohmann::json::parse(line)["reason"]);
  }
  for (const std::string& line : split(slurp(dir.path() + "/rejects-parquet.jsonl"), '\n')) {
    if (line.empty()) continue;
    const auto reject = nlohmann::json::parse(line);
    parquet_rejects.push_back(reject["reason"]);
    const int64_t row = reject["row"];
    EXPECT_FALSE(reject.contains("offset")) << line;
    EXPECT_TRUE(row % 89 == 7 || row % 97 == 13) << line;
  }
  EXPECT_EQ(parquet_rejects, jsonl_rejects);
  EXPECT_THAT(parquet_rejects, ::testing::Contains("missing string field \"text\""));
  EXPECT_THAT(parquet_rejects, ::testing::Contains("no label"));

  ASSERT_EQ(parquet.files.size(), 1u);
  EXPECT_EQ(parquet.files[0].sha256.size(), 64u);
  EXPECT_EQ(parquet.files[0].bytes_read, std::filesystem::file_size(dir.path() + "/table.parquet"));
  EXPECT_TRUE(parquet.files[0].read_to_end);
}

TEST(ParquetSource, IntegerClassIdsAreLabelsNamedByTheirDigits) {
  TempDir dir;
  ASSERT_NO_FATAL_FAILURE(write_tables(dir, 200, 64));
  DataOptions options = table_options(dir.path() + "/table.parquet", "parquet");
  options.text.label_fields = {"stars"};
  const SplitData data = read_parquet_source(options, DataContext{});
  EXPECT_EQ(data.spec.class_names, (std::vector<std::string>{"1", "2", "3", "4", "5"}));
  EXPECT_EQ(data.records_rejected, 3);  // the null texts among the first 200 rows (7, 96, 185)
}

TEST(ParquetSource, MaxRecordsStopsReadingEarly) {
  TempDir dir;
  ASSERT_NO_FATAL_FAILURE(write_tables(dir, 600, 100));
  DataOptions options = table_options(dir.path() + "/table.parquet", "parquet");
  options.max_records = 150;
  const SplitData data = read_parquet_source(options, DataContext{});
  EXPECT_EQ(data.records_accepted, 150);
  EXPECT_FALSE(data.files[0].read_to_end);
}

TEST(ParquetSource, MissingColumnsAndUnreadableTypesNameTheFileAndColumn) {
  TempDir dir;
  ASSERT_NO_FATAL_FAILURE(write_tables(dir, 50, 20));
  const std::string path = dir.path() + "/table.parquet";
  DataOptions options = table_options(path, "parquet");
  options.text.text_field = "body";
  EXPECT_EQ(testing::user_error([&] { read_parquet_source(options, DataContext{}); }),
            "data.path: " + path + ": no column \"body\" (the file has: text, tags, ts, score, stars, region, user, blob)");
  options.text.text_field = "blob";
  EXPECT_THAT(testing::user_error([&] { read_parquet_source(options, DataContext{}); }),
              HasSubstr("data.path: " + path + ": column \"blob\" holds binary, which Stratum does not read"));
  // Slice fields that no column holds are "(missing)" like absent JSON fields, not errors.
  DataContext context;
  context.slice_fields = {"absent.field"};
  EXPECT_EQ(read_parquet_source(table_options(path, "parquet"), context).seen.fields[0], (std::vector<std::string>{""}));
}

TEST(ParquetSource, NotParquetEmptyOrMissingFilesAreOneLineErrors) {
  TempDir dir;
  const std::string text = dir.write("text.parquet", "label\tthis is not parquet\n");
  const std::string empty = dir.write("empty.parquet", "");
  for (const std::string& path : {text, empty}) {
    const std::string error = testing::user_error([&] { read_parquet_source(table_options(path, "parquet"), DataContext{}); });
    EXPECT_THAT(error, HasSubstr("data.path: " + path + ": not readable as Parquet")) << error;
    EXPECT_EQ(error.find('\n'), std::string::npos) << error;
  }
  const std::string missing = dir.path() + "/none-*.parquet";
  EXPECT_THAT(testing::user_error([&] { read_parquet_source(table_options(missing, "parquet"), DataContext{}); }),
              HasSubstr("data.path"));
}

// Truncations and byte flips anywhere in a real file: each either reads (with rows accounted
// for) or is a one-line UserError naming the file; never a crash, a hang or another exception.
TEST(ParquetSource, DamagedFilesReadOrFailWithOneLineErrorsNeverCrash) {
  TempDir dir;
  ASSERT_NO_FATAL_FAILURE(write_tables(dir, 300, 64));
  const std::string good = slurp(dir.path() + "/table.parquet");
  std::mt19937_64 rng(20261201);
  int failed = 0, read = 0;
  for (int trial = 0; trial < 240; ++trial) {
    std::string bytes = good;
    if (trial < 60) {
      bytes.resize(static_cast<size_t>(rng() % good.size()));
    } else {
      const int flips = 1 + static_cast<int>(rng() % 8);
      for (int f = 0; f < flips; ++f) bytes[static_cast<size_t>(rng() % bytes.size())] ^= static_cast<char>(1 + rng() % 255);
    }
    const std::string path = dir.write("damaged.parquet", bytes);
    DataOptions options = table_options(path, "parquet");
    options.max_reject_fraction = 1.0;
    try {
      const SplitData data = read_parquet_source(options, DataContext{});
      EXPECT_EQ(data.records_read, data.records_accepted + data.records_rejected);
      ++read;
    } catch (const UserError& e) {
      const std::string what = e.what();
      EXPECT_THAT(what, HasSubstr("data.path: " + path)) << what;
      EXPECT_EQ(what.find('\n'), std::string::npos) << what;
      ++failed;
    }
  }
  EXPECT_GT(failed, 60);  // every truncation at least
  EXPECT_GT(read + failed, 0);
}

}  // namespace
}  // namespace stratum::data
