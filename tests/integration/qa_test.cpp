// The labeling-quality tools through the binary, on the files in tests/data/qa and on a real
// run's output: agreement, a spot check whose filled-in sheet feeds agreement and the
// relabeling queue, active-learning selection, weak labels, and bad input exiting 2.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "data/csv.h"
#include "integration/stratum_binary.h"

namespace fs = std::filesystem;

namespace stratum::testing {
namespace {

using ::testing::HasSubstr;

data::CsvTable table(const std::string& path) { return data::read_csv(path); }

TEST(QaAgreement, ReportsKappasAndFlagsWithoutFailing) {
  CommandResult r = run_stratum("qa agreement tests/data/qa/fleiss_1971.csv --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto json = nlohmann::json::parse(r.out);
  EXPECT_NEAR(json["fleiss_kappa"].get<double>(), 0.2099, 5e-5);
  EXPECT_EQ(json["pairs"].size(), 91u);  // 14 raters
  r = run_stratum("qa agreement tests/data/qa/fleiss_1971.csv --threshold 0.3 --high-stakes-labels category5");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_THAT(r.out, HasSubstr("FLAGGED"));
  EXPECT_THAT(r.out, HasSubstr("label(s) below their agreement threshold"));
  for (const auto& [file, message] : std::map<std::string, std::string>{
           {"single_annotator.csv", "single_annotator.csv: only one annotator"},
           {"missing_column.csv", "missing_column.csv:1: no column \"annotator\""},
           {"empty.csv", "empty.csv: empty file"},
           {"duplicate_rating.csv", "duplicate_rating.csv:5: a rated item \"1\" again"}}) {
    r = run_stratum("qa agreement tests/data/qa/" + file);
    EXPECT_EQ(r.exit_code, 2) << file;
    EXPECT_THAT(r.err, HasSubstr(message));
    EXPECT_EQ(count_lines(r.err), 1) << r.err;
  }
  r = run_stratum("qa agreement tests/data/qa/cohen_yes_no.csv --labels yes,nope");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("cohen_yes_no.csv:43: unknown label \"no\" (did you mean nope?); known: yes, nope"));
  r = run_stratum("qa agreement tests/data/qa/cohen_yes_no.csv --threshold 2");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("--threshold: expected a number in [-1, 1], got \"2\""));
  r = run_stratum("qa agreemnt x.csv");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("unknown tool \"agreemnt\" (did you mean agreement?)"));
}

TEST(QaOnARun, SpotcheckSheetFeedsAgreementAndTheRelabelQueueAndSelectionRanksThePool) {
  TempDir dir;
  const CommandResult train = run_stratum("train --config configs/weak-labels.yaml --set run.output_dir=" + dir.path());
  ASSERT_EQ(train.exit_code, 0) << train.err;
  const std::string run = run_directory(train);

  // A spot check of what the run's reservoirs kept, for the run's reviewers (qa.reviewers).
  const std::string sheet = dir.path() + "/spot.csv";
  CommandResult r = run_stratum("qa spotcheck --checkpoint " + run + " --fraction 0.1 --out " + sheet);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const data::CsvTable drawn = table(sheet), key = table(dir.path() + "/spot.key.csv");
  ASSERT_EQ(drawn.rows.size(), 2 * key.rows.size());
  EXPECT_GE(key.rows.size(), 3u);  // at least one per label
  EXPECT_EQ(drawn.header.back(), "label");
  EXPECT_EQ(drawn.rows[0].fields[1], "alice");
  EXPECT_EQ(drawn.rows[1].fields[1], "bob");
  EXPECT_EQ(drawn.rows[0].fields.back(), "");  // blind: to be filled in

  // The reviewers' answers: alice agrees with every label, bob with all but the first three.
  std::string filled = data::csv_line({"item", "annotator", "label"});
  for (size_t i = 0; i < key.rows.size(); ++i) {
    const std::string& item = key.rows[i].fields[0];
    const std::string& label = key.rows[i].fields[1];
    filled += data::csv_line({item, "alice", label});
    filled += data::csv_line({item, "bob", i < 3 ? (label == "tech" ? "sports" : "tech") : label});
  }
  const std::string answers = dir.write("answers.csv", filled);
  r = run_stratum("qa agreement " + answers);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("3 item(s) with disagreement"));

  const std::string typo = dir.write("typo.csv", filled + data::csv_line({key.rows[0].fields[0], "carol", "sprots"}));
  r = run_stratum("qa relabel --checkpoint " + run + " --annotations " + typo);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("typo.csv:" + std::to_string(2 * key.rows.size() + 2) +
                               ": unknown label \"sprots\" (did you mean sports?)"));

  const std::string queue = dir.path() + "/queue.csv";
  r = run_stratum("qa relabel --checkpoint " + run + " --annotations " + answers + " --out " + queue);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const data::CsvTable entries = table(queue);
  int disagreements = 0;
  for (const data::CsvRow& row : entries.rows) {
    if (row.fields[3].find("disagreement") == std::string::npos) continue;
    ++disagreements;
    EXPECT_THAT(row.fields[4], HasSubstr("annotators disagree: alice="));
    EXPECT_NE(row.fields[1].find(':'), std::string::npos);  // named like the training records: source:offset
  }
  EXPECT_EQ(disagreements, 3);
  for (size_t i = 1; i < entries.rows.size(); ++i) {
    EXPECT_GE(std::stod(entries.rows[i - 1].fields[2]), std::stod(entries.rows[i].fields[2]));  // by impact
  }
  EXPECT_THAT(r.out, HasSubstr("model contradictions"));

  const std::string selected = dir.path() + "/selected.csv";
  r = run_stratum("qa select --checkpoint " + run + " --pool tests/data/qa/weak_items.jsonl --k 10 --diversity --out " +
                  selected);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const data::CsvTable chosen = table(selected);
  ASSERT_EQ(chosen.rows.size(), 10u);
  EXPECT_EQ(chosen.rows[0].fields[1].rfind("doc", 0), 0u);  // the pool's own ids
  r = run_stratum("qa select --checkpoint " + run + " --pool tests/data/qa/weak_items.jsonl --by guess");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("--by: expected least_confidence, margin or entropy"));
}

TEST(QaOnARun, RelabelQueuesTheDriftAlertsOfADriftingStream) {
  TempDir dir;
  const CommandResult train = run_stratum("train --config configs/synthetic-drift.yaml --set trainer.steps=40 "
                                          "--set run.output_dir=" + dir.path());
  ASSERT_EQ(train.exit_code, 0) << train.err;
  const std::string queue = dir.path() + "/queue.csv";
  const CommandResult r = run_stratum("qa relabel --checkpoint " + run_directory(train) + " --out " + queue);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  int drift = 0;
  for (const data::CsvRow& row : table(queue).rows) {
    if (row.fields[1].rfind("drift:", 0) != 0) continue;
    ++drift;
    EXPECT_THAT(row.fields[4], HasSubstr("spot-check the labels of the records after it"));
  }
  EXPECT_GT(drift, 0);
}

TEST(QaWeakLabels, CombinesVotesIntoALabelFile) {
  TempDir dir;
  const std::string out = dir.path() + "/labels.csv";
  const CommandResult r = run_stratum("qa weak-labels --votes tests/data/qa/weak_votes.csv --out " + out);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("lf_noisy"));
  const data::CsvTable labels = table(out);
  EXPECT_EQ(labels.rows.size(), 300u);
  EXPECT_EQ(labels.header, (std::vector<std::string>{"id", "label", "confidence", "votes"}));
  const CommandResult bad = run_stratum("qa weak-labels --votes tests/data/qa/missing_column.csv");
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_THAT(bad.err, HasSubstr("missing_column.csv:1: no column \"id\""));
}

}  // namespace
}  // namespace stratum::testing
