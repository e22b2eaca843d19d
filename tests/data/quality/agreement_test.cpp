#include "data/quality/agreement.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <random>

#include "data/csv.h"
#include "support/temp_dir.h"
#include "support/user_error.h"

namespace stratum::data {
namespace {

using ::testing::HasSubstr;

const std::string kData = std::string(STRATUM_SOURCE_DIR) + "/tests/data/qa/";

AgreementReport measure(const std::string& file, const AnnotationColumns& columns = {}) {
  return measure_agreement(read_annotations(kData + file, columns), {});
}

TEST(Agreement, FleissWorkedExample) {
  // Fleiss (1971): 10 subjects, 14 raters, 5 categories; P = 0.378, kappa = 0.210.
  const AgreementReport r = measure("fleiss_1971.csv");
  EXPECT_EQ(r.items, 10);
  EXPECT_EQ(r.annotators, 14);
  EXPECT_NEAR(r.percent_agreement, 0.378, 5e-4);
  EXPECT_NEAR(r.fleiss_kappa, 0.2099, 5e-5);
}

TEST(Agreement, CohenWorkedExample) {
  // 50 items; both yes 20, A yes / B no 5, A no / B yes 10, both no 15: p_o 0.7, p_e 0.5.
  const AgreementReport r = measure("cohen_yes_no.csv");
  ASSERT_EQ(r.pairs.size(), 1u);
  EXPECT_NEAR(r.pairs[0].percent, 0.7, 1e-12);
  EXPECT_NEAR(r.pairs[0].kappa, 0.4, 1e-12);
  EXPECT_NEAR(cohen_kappa({{20, 5}, {10, 15}}), 0.4, 1e-12);
  EXPECT_EQ(r.disagreements.size(), 15u);
}

TEST(Agreement, KrippendorffWorkedExampleWithMissingRatings) {
  // Krippendorff (2011), 4 coders x 12 units with gaps: nominal alpha = 0.743.
  const AgreementReport r = measure("krippendorff_2011.jsonl", {"unit", "coder", "value"});
  EXPECT_EQ(r.ratings, 41);
  EXPECT_EQ(r.compared_items, 11);  // unit 12 has one rating: not pairable
  EXPECT_NEAR(r.krippendorff_alpha, 0.743, 5e-4);
}

TEST(Agreement, UndefinedStatisticsAreNaNNotGuesses) {
  EXPECT_TRUE(std::isnan(cohen_kappa({{5, 0}, {0, 0}})));  // both always say the same single label
  EXPECT_TRUE(std::isnan(fleiss_kappa({{1, 0}, {0, 1}})));  // no item rated twice
  const auto json = nlohmann::json::parse(agreement_json(AgreementReport{0, 0, 0, 0, std::nan(""), 0, 0, {}, {}, {}}));
  EXPECT_TRUE(json["percent_agreement"].is_null());
}

TEST(Agreement, LabelsBelowTheirThresholdAreFlagged) {
  const AnnotationTable table = read_annotations(kData + "fleiss_1971.csv", {});
  const AgreementReport r = measure_agreement(table, {0.2, 0.8, {"category1"}});
  ASSERT_EQ(r.labels.size(), 5u);
  for (const LabelAgreement& l : r.labels) {
    EXPECT_EQ(l.threshold, l.label == "category1" ? 0.8 : 0.2) << l.label;
    EXPECT_EQ(l.flagged, !(l.kappa >= l.threshold)) << l.label;
  }
  EXPECT_TRUE(r.labels[0].flagged);  // category1 held to 0.8
}

TEST(Agreement, BadFilesNameTheFileAndRow) {
  EXPECT_EQ(testing::user_error([] { read_annotations(kData + "single_annotator.csv", {}); }),
            kData + "single_annotator.csv: only one annotator (\"ann\"); agreement needs ratings from at least two");
  EXPECT_EQ(testing::user_error([] { read_annotations(kData + "missing_column.csv", {}); }),
            kData + "missing_column.csv:1: no column \"annotator\" (columns: item, rater, label)");
  EXPECT_EQ(testing::user_error([] { read_annotations(kData + "empty.csv", {}); }),
            kData + "empty.csv: empty file (expected a header row)");
  EXPECT_EQ(testing::user_error([] { read_annotations(kData + "duplicate_rating.csv", {}); }),
            kData + "duplicate_rating.csv:5: a rated item \"1\" again (first at row 2)");
  EXPECT_EQ(testing::user_error([] { read_annotations(kData + "ragged.csv", {}); }),
            kData + "ragged.csv:3: 2 fields, the header has 3");
  EXPECT_THAT(testing::user_error([] { read_annotations(kData + "cohen_yes_no.csv", {}, {"yes", "maybe"}); }),
              HasSubstr("cohen_yes_no.csv:43: unknown label \"no\""));
}

TEST(Csv, QuotedFieldsCommasQuotesAndLineBreaksRoundTrip) {
  testing::TempDir dir;
  const std::vector<std::string> fields = {"plain", "a,b", "say \"hi\"", "two\nlines", ""};
  const std::string path = dir.write("t.csv", csv_line({"a", "b", "c", "d", "e"}) + csv_line(fields) + csv_line(fields));
  const CsvTable table = read_csv(path);
  ASSERT_EQ(table.rows.size(), 2u);
  EXPECT_EQ(table.rows[0].fields, fields);
  EXPECT_EQ(table.rows[1].line, 4);  // the first data row spans lines 2 and 3
  const std::string bad = dir.write("bad.csv", "a\n\"open\n");
  EXPECT_EQ(testing::user_error([&] { read_csv(bad); }), bad + ":2: unterminated quoted field");
}

// Random annotations in the file format, complete (every annotator rates every item) or with
// gaps; returns the path.
std::string random_annotations(const testing::TempDir& dir, const std::string& name, uint32_t seed, double missing) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> unit(0, 1);
  std::string text = "item,annotator,label\n";
  for (int item = 0; item < 80; ++item) {
    const int truth = static_cast<int>(rng() % 4);
    for (int a = 0; a < 5; ++a) {
      if (unit(rng) < missing) continue;
      const int label = unit(rng) < 0.6 ? truth : static_cast<int>(rng() % 4);
      text += "i" + std::to_string(item) + ",annotator" + std::to_string(a) + ",label" + std::to_string(label) + "\n";
    }
  }
  return dir.write(name, text);
}

TEST(Agreement, EqualsStatsmodelsAndKrippendorffOnRandomData) {
  const std::string python = std::string(STRATUM_SOURCE_DIR) + "/.venv/bin/python";
  ASSERT_TRUE(std::filesystem::exists(python)) << python << " is missing: run scripts/setup.sh";
  testing::TempDir dir;
  for (const auto& [name, missing] : {std::pair<std::string, double>{"complete.csv", 0.0}, {"gaps.csv", 0.3}}) {
    const std::string file = random_annotations(dir, name, name == "gaps.csv" ? 11u : 7u, missing);
    const testing::CommandResult ref = testing::run_command(
        "'" + python + "' '" + STRATUM_SOURCE_DIR + "/scripts/parity/agreement_reference.py' '" + file + "'");
    ASSERT_EQ(ref.exit_code, 0) << ref.err;
    const auto expected = nlohmann::json::parse(ref.out);
    const AgreementReport got = measure_agreement(read_annotations(file, {}), {});
    ASSERT_EQ(got.pairs.size(), expected["cohen"].size()) << name;
    for (const PairAgreement& p : got.pairs) {
      EXPECT_NEAR(p.kappa, expected["cohen"][p.first + "|" + p.second].get<double>(), 1e-9) << name;
    }
    EXPECT_NEAR(got.krippendorff_alpha, expected["krippendorff_alpha"].get<double>(), 1e-9) << name;
    if (missing == 0) {
      EXPECT_NEAR(got.fleiss_kappa, expected["fleiss"].get<double>(), 1e-9);
    } else {
      EXPECT_TRUE(expected["fleiss"].is_null());  // statsmodels needs equal rating counts per item
    }
    std::printf("%s: Fleiss %.12f, alpha %.12f (reference %.12f), %zu Cohen pairs\n", name.c_str(), got.fleiss_kappa,
                got.krippendorff_alpha, expected["krippendorff_alpha"].get<double>(), got.pairs.size());
  }
}

}  // namespace
}  // namespace stratum::data
