// Parquet through the binary: configs/parquet-text.yaml trains on a Parquet table (integer
// class ids as labels) and writes the file's hash, counts and row-numbered rejects; a Parquet
// source mixes with a JSONL one by weight; a damaged file ends the run before training with
// one line naming it and exit code 2.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "integration/training_run.h"

namespace stratum::testing {
namespace {

using ::testing::HasSubstr;

void write_table(const TempDir& dir, int rows) {
  const std::string python = std::string(STRATUM_SOURCE_DIR) + "/.venv/bin/python";
  ASSERT_TRUE(std::filesystem::exists(python)) << python << " is missing: run scripts/setup.sh";
  const CommandResult made = run_command("'" + python + "' '" + STRATUM_SOURCE_DIR + "/scripts/parity/parquet_fixture.py' '" +
                                         dir.path() + "' " + std::to_string(rows) + " 256");
  ASSERT_EQ(made.exit_code, 0) << made.err;
}

TEST(ParquetRun, TheExampleConfigTrainsOnAParquetTable) {
  TempDir dir;
  ASSERT_NO_FATAL_FAILURE(write_table(dir, 1200));
  const RunResult run = train("configs/parquet-text.yaml",
                              " --set data.path=" + dir.path() + "/table.parquet --set data.text.label_fields=[stars]" +
                                  " --set trainer.steps=20 --set data.max_reject_fraction=0.02" + kSmallText,
                              dir);
  const auto manifest = nlohmann::json::parse(read_file(run.run_dir + "/manifest.json"));
  EXPECT_EQ(manifest["class_names"], nlohmann::json({"1", "2", "3", "4", "5"}));
  EXPECT_EQ(manifest["records_read"], 1200);
  EXPECT_EQ(manifest["records_rejected"], 14);  // null texts (row % 89 == 7); a stars label is never empty
  ASSERT_EQ(manifest["files"].size(), 1u);
  EXPECT_EQ(manifest["files"][0]["sha256"].get<std::string>().size(), 64u);
  const auto rejects = json_lines(read_file(run.run_dir + "/rejects.jsonl"));
  ASSERT_EQ(rejects.size(), 14u);
  EXPECT_EQ(rejects[0]["row"], 7);
  EXPECT_EQ(rejects[0]["reason"], "missing string field \"text\"");
  EXPECT_EQ(run.train_losses.size(), 5u);  // steps 1, 5, 10, 15, 20
}

TEST(ParquetRun, AParquetSourceMixesWithAJsonlOneByWeight) {
  TempDir dir;
  ASSERT_NO_FATAL_FAILURE(write_table(dir, 600));
  const std::string config = dir.write("mix.yaml", R"(run:
  name: parquet-mix
  output_dir: )" + dir.path() + R"(/runs
data:
  max_reject_fraction: 0.2
  text: {format: jsonl, label_fields: [tags], max_length: 32}
  unseen: {by: none}
  drift: {window: 0}
  sources:
    - {name: table, source: parquet, path: )" + dir.path() + R"(/table.parquet, weight: 0.7}
    - {name: feed, source: text, path: )" + dir.path() + R"(/table.jsonl, weight: 0.3}
model: {name: text-classifier, layers: 1, width: 32, heads: 2, mlp_hidden: 64}
trainer: {steps: 20, batch_size: 20, threads: 2, checkpoint: {best_metric: ""}}
eval: {every: 0, max_samples: 100}
logging: {every: 20}
)");
  const CommandResult run = run_stratum("train --config " + config);
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const auto manifest = nlohmann::json::parse(read_file(run_directory(run) + "/manifest.json"));
  ASSERT_EQ(manifest["sources"].size(), 2u);
  // The same rows, so the same counts from both.
  EXPECT_EQ(manifest["sources"][0]["records_read"], 600);
  EXPECT_EQ(manifest["sources"][0]["records_rejected"], manifest["sources"][1]["records_rejected"]);
  nlohmann::json last;
  for (const auto& line : json_lines(read_file(run_directory(run) + "/metrics.jsonl"))) {
    if (line["kind"] == "train") last = line;
  }
  EXPECT_NEAR(last["mix/table/share"].get<double>(), 0.7, 0.01);
}

TEST(ParquetRun, ADamagedOrMislabeledFileIsOneLineAndExitTwo) {
  TempDir dir;
  ASSERT_NO_FATAL_FAILURE(write_table(dir, 300));
  std::string bytes = read_file(dir.path() + "/table.parquet");
  bytes.resize(bytes.size() / 2);
  const std::string cut = dir.write("cut.parquet", bytes);
  const std::vector<std::pair<std::string, std::string>> cases = {
      {cut, "data.path: " + cut + ": not readable as Parquet"}, {dir.path() + "/table.parquet", "no column \"label\""}};
  for (const auto& [path, expected] : cases) {
    const CommandResult r = run_stratum("train --config configs/parquet-text.yaml --set data.path=" + path +
                                        " --set run.output_dir=" + dir.path() + "/runs");
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_THAT(r.err, HasSubstr(expected));
    EXPECT_EQ(count_lines(r.err), 1) << r.err;
  }
}

}  // namespace
}  // namespace stratum::testing
