#include "data/quality/weak_labels.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <nlohmann/json.hpp>

#include "data/sources/text_source.h"
#include "support/temp_dir.h"
#include "support/user_error.h"

namespace stratum::data {
namespace {

using ::testing::HasSubstr;

const std::string kData = std::string(STRATUM_SOURCE_DIR) + "/tests/data/qa/";

std::map<std::string, std::string> truth() {
  std::map<std::string, std::string> out;
  std::ifstream in(kData + "weak_items.jsonl");
  std::string line;
  while (std::getline(in, line)) {
    const auto j = nlohmann::json::parse(line);
    out[j["id"]] = j["truth"];
  }
  return out;
}

double accuracy(const VoteTable& votes, const WeakLabelResult& result) {
  const auto expected = truth();
  int correct = 0;
  for (size_t i = 0; i < votes.items.size(); ++i) {
    const int32_t l = result.labels[i].label;
    correct += l >= 0 && votes.labels[static_cast<size_t>(l)] == expected.at(votes.items[i]);
  }
  return static_cast<double>(correct) / static_cast<double>(votes.items.size());
}

TEST(WeakLabels, MajorityVoteCountsVotesAndLeavesTiesUnlabeled) {
  testing::TempDir dir;
  const VoteTable votes = read_votes(dir.write("v.csv",
                                               "id,a,b,c\n"
                                               "x,cat,cat,dog\n"
                                               "y,cat,dog,\n"
                                               "z,abstain,,-1\n"
                                               "w,dog,,dog\n"),
                                     "id");
  EXPECT_EQ(votes.labels, (std::vector<std::string>{"cat", "dog"}));
  const WeakLabelResult r = combine_votes(votes, VoteMethod::majority);
  EXPECT_EQ(r.labels[0].label, 0);
  EXPECT_NEAR(r.labels[0].confidence, 2.0 / 3.0, 1e-12);
  EXPECT_EQ(r.labels[1].label, -1);  // tie
  EXPECT_EQ(r.labels[2].label, -1);  // every function abstained
  EXPECT_EQ(r.labels[2].votes, 0);
  EXPECT_EQ(r.labels[3].label, 1);
  EXPECT_DOUBLE_EQ(r.labels[3].confidence, 1.0);
  EXPECT_EQ(r.ties, 1);
  EXPECT_EQ(r.abstained, 1);
  EXPECT_NEAR(r.coverage[1], 0.5, 1e-12);
}

TEST(WeakLabels, WeightedVoteTrustsAccurateFunctionsAndBeatsMajority) {
  // Four functions of known quality (tests/data/qa: accuracy 0.9, 0.75, 0.4, 0.97; coverage
  // 0.7, 0.8, 0.9, 0.2) over 300 documents whose true labels are in weak_items.jsonl.
  const VoteTable votes = read_votes(kData + "weak_votes.csv", "id");
  const WeakLabelResult majority = combine_votes(votes, VoteMethod::majority);
  const WeakLabelResult weighted = combine_votes(votes, VoteMethod::weighted);
  // The noisy function gets the lowest weight, the rare precise one the highest.
  EXPECT_LT(weighted.weight[2], weighted.weight[1]);
  EXPECT_LT(weighted.weight[1], weighted.weight[0]);
  EXPECT_GT(weighted.weight[3], weighted.weight[0]);
  const double weighted_accuracy = accuracy(votes, weighted), majority_accuracy = accuracy(votes, majority);
  EXPECT_GT(weighted_accuracy, majority_accuracy + 0.1);
  EXPECT_GT(weighted_accuracy, 0.8);
  std::printf("correct labels among all items: weighted %.3f, majority %.3f\n", weighted_accuracy, majority_accuracy);
  for (const WeakLabel& l : weighted.labels) {
    if (l.label >= 0) {
      EXPECT_GT(l.confidence, 1.0 / 3.0);
    }
  }
}

TEST(WeakLabels, BadVoteFilesNameTheFileAndRow) {
  testing::TempDir dir;
  EXPECT_EQ(testing::user_error([&] { read_votes(dir.write("a.csv", "id\nx\n"), "id"); }),
            dir.path() + "/a.csv:1: no labeling-function columns besides \"id\"");
  EXPECT_EQ(testing::user_error([&] { read_votes(dir.write("b.csv", "id,lf\nx,cat\nx,dog\n"), "id"); }),
            dir.path() + "/b.csv:3: item \"x\" again (first at row 2)");
  EXPECT_EQ(testing::user_error([&] { read_votes(dir.write("c.csv", "item,lf\nx,cat\n"), "id"); }),
            dir.path() + "/c.csv:1: no column \"id\" (columns: item, lf)");
  EXPECT_EQ(testing::user_error([&] { read_votes(dir.write("d.csv", "id,lf\n"), "id"); }),
            dir.path() + "/d.csv: no votes (the file has no data rows)");
}

TEST(WeakLabelSource, TrainsOnCombinedLabelsAndRejectsUnlabeledItemsWithReasons) {
  testing::TempDir dir;
  data::DataOptions options;
  options.source = "weak_labels";
  options.path = kData + "weak_items.jsonl";
  options.max_reject_fraction = 0.5;
  options.weak_labels.votes = kData + "weak_votes.csv";
  options.weak_labels.min_confidence = 0.6;
  options.unseen.by = data::UnseenBy::none;
  options.drift.window = 0;
  DataContext context;
  context.seed = 3;
  context.rejects_path = dir.path() + "/rejects.jsonl";
  const SplitData data = read_weak_label_source(options, context);
  EXPECT_EQ(data.spec.class_names, (std::vector<std::string>{"politics", "sports", "tech"}));
  EXPECT_EQ(data.seen.size() + data.validation.size() + data.records_rejected, 300);
  EXPECT_GT(data.records_rejected, 0);
  std::ifstream rejects(context.rejects_path);
  std::string line, all;
  int lines = 0;
  while (std::getline(rejects, line)) ++lines, all += line;
  EXPECT_EQ(lines, data.records_rejected);
  EXPECT_THAT(all, HasSubstr("every labeling function abstained"));
  EXPECT_THAT(all, HasSubstr("below data.weak_labels.min_confidence"));
}

}  // namespace
}  // namespace stratum::data
