#include "data/sources/synthetic_source.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <nlohmann/json.hpp>
#include <sstream>

#include "core/error.h"
#include "data/splits/stream_splitter.h"
#include "support/temp_dir.h"
#include "support/user_error.h"

namespace stratum::data {
namespace {

using ::testing::HasSubstr;

data::DataOptions synthetic_options() {
  data::DataOptions o;
  o.source = "synthetic";
  o.synthetic.records = 6000;
  o.synthetic.classes = 4;
  o.synthetic.features = 4;
  o.drift.window = 1000;
  return o;
}

DataContext context(const std::string& rejects = "") {
  DataContext c;
  c.seed = 5;
  c.rejects_path = rejects;
  return c;
}

TEST(SyntheticSource, LabelShiftRaisesADriftEventAtTheShift) {
  data::DataOptions o = synthetic_options();
  o.synthetic.label_shift_at = {3000};
  const SplitData data = read_synthetic_source(o, context());
  ASSERT_FALSE(data.drift_events.empty());
  EXPECT_EQ(data.drift_events[0].statistic, "tv");
  EXPECT_EQ(data.drift_events[0].record, 4000);  // the first window after the shift
  for (const auto& e : data.drift_events) EXPECT_GE(e.record, 4000);
}

TEST(SyntheticSource, CovariateShiftRaisesKs) {
  data::DataOptions o = synthetic_options();
  o.synthetic.covariate_shift_at = {2000};
  const SplitData data = read_synthetic_source(o, context());
  bool ks = false;
  for (const auto& e : data.drift_events) ks |= e.statistic == "ks";
  EXPECT_TRUE(ks);
}

TEST(SyntheticSource, CorruptRecordsAreRejectedCountedAndBudgeted) {
  stratum::testing::TempDir dir;
  data::DataOptions o = synthetic_options();
  o.synthetic.corrupt_fraction = 0.02;
  o.max_reject_fraction = 0.05;
  const std::string rejects = dir.path() + "/rejects.jsonl";
  const SplitData data = read_synthetic_source(o, context(rejects));
  const std::string log = stratum::testing::read_file(rejects);
  int lines = 0;
  for (char c : log) lines += c == '\n';
  EXPECT_GT(lines, 60);
  EXPECT_LT(lines, 180);
  EXPECT_THAT(log, HasSubstr("non-finite feature value"));
  EXPECT_THAT(log, HasSubstr("unknown label 5"));
  const auto manifest = nlohmann::json::parse(data.manifest);
  EXPECT_EQ(manifest["reservoir"]["offered"].get<int64_t>() + lines, 6000 - data.validation.size());
  o.max_reject_fraction = 0.005;
  const std::string error = testing::user_error([&] { read_synthetic_source(o, context()); });
  EXPECT_THAT(error, HasSubstr("records rejected"));
  EXPECT_THAT(error, HasSubstr("first: synthetic at offset"));
}

TEST(SyntheticSource, UnseenByLabelHoldsOutWholeClasses) {
  data::DataOptions o = synthetic_options();
  o.unseen.by = data::UnseenBy::label;
  o.unseen.labels = {"class2", "3"};
  const SplitData data = read_synthetic_source(o, context());
  EXPECT_EQ(data.label_counts.at("seen")[2], 0);
  EXPECT_EQ(data.label_counts.at("seen")[3], 0);
  EXPECT_EQ(data.label_counts.at("validation")[3], 0);
  EXPECT_EQ(data.label_counts.at("unseen")[0], 0);
  EXPECT_GT(data.label_counts.at("unseen")[2], 0);
  o.unseen.labels = {"clas2"};
  const std::string error = testing::user_error([&] { read_synthetic_source(o, context()); });
  EXPECT_THAT(error, HasSubstr("data.unseen.labels: unknown label \"clas2\" (did you mean class2?)"));
}

TEST(SyntheticSource, UnseenByTimeTakesTheTail) {
  data::DataOptions o = synthetic_options();
  o.unseen.by = data::UnseenBy::time;
  o.unseen.after = 4999;
  o.validation_fraction = 0.1;
  o.reservoir.max_per_label = 10000;  // keep every seen record, so the counts add up
  o.reservoir.label_share_cap = 1.0;
  const SplitData data = read_synthetic_source(o, context());
  EXPECT_EQ(data.unseen.size(), 1000);
  EXPECT_EQ(data.seen.size() + data.validation.size(), 5000);
}

}  // namespace
}  // namespace stratum::data

namespace stratum::data {
namespace {

TEST(StreamSplitter, SaveAndRestoreMidStreamContinuesExactly) {
  data::DataOptions o = synthetic_options();
  o.synthetic.label_shift_at = {2500};
  o.synthetic.covariate_shift_at = {3500};
  o.reservoir.decay = 0.001;
  o.reservoir.max_items = 800;
  o.unseen.by = data::UnseenBy::time;
  o.unseen.after = 5500;
  o.drift.window = 500;
  DataContext c = context();
  SyntheticStream stream(o.synthetic, 3, 1);
  std::vector<Record> records;
  for (int i = 0; i < 6000; ++i) records.push_back(stream.next());

  StreamSplitter uninterrupted(o, c, {});
  for (int i = 0; i < 6000; ++i) uninterrupted.add(i, records[i]);

  StreamSplitter first(o, c, {}), resumed(o, c, {});
  for (int i = 0; i < 2750; ++i) first.add(i, records[i]);
  std::stringstream state;
  first.save(state);
  // Unbounded held-out lists (offline) keep format 3, so older checkpoints' states hash alike.
  EXPECT_EQ(state.str().substr(0, 8), std::string("3TLPSRTS", 8));
  resumed.load(state, "checkpoint/data.bin");
  for (int i = 2750; i < 6000; ++i) resumed.add(i, records[i]);

  EXPECT_EQ(resumed.records_accepted(), uninterrupted.records_accepted());
  ASSERT_EQ(resumed.validation().size(), uninterrupted.validation().size());
  ASSERT_EQ(resumed.unseen().size(), uninterrupted.unseen().size());
  ASSERT_EQ(resumed.drift().events().size(), uninterrupted.drift().events().size());
  EXPECT_GT(resumed.drift().events().size(), 0u);
  for (int32_t label : uninterrupted.reservoir().labels()) {
    const auto& a = uninterrupted.reservoir().reservoir(label).items();
    const auto& b = resumed.reservoir().reservoir(label).items();
    ASSERT_EQ(a.size(), b.size());
    for (size_t j = 0; j < a.size(); ++j) EXPECT_EQ(a[j].origin.offset, b[j].origin.offset);
  }
  uninterrupted.finish();
  resumed.finish();
  ASSERT_EQ(resumed.history().size(), uninterrupted.history().size());
  for (size_t i = 0; i < resumed.history().size(); ++i) {
    EXPECT_EQ(resumed.history()[i].record, uninterrupted.history()[i].record);
    EXPECT_EQ(resumed.history()[i].sizes, uninterrupted.history()[i].sizes);
  }
}

TEST(StreamSplitter, ReservoirHistoryIsBoundedEvenlySpacedAndEndsWithTheFinalSizes) {
  data::DataOptions o = synthetic_options();
  o.synthetic.records = 40000;
  o.reservoir.max_items = 400;
  const DataContext c = context();
  SyntheticStream stream(o.synthetic, 3, 1);
  StreamSplitter splitter(o, c, {});
  for (int i = 0; i < 40000; ++i) splitter.add(i, stream.next());
  splitter.finish();
  const auto& history = splitter.history();
  ASSERT_GE(history.size(), StreamSplitter::kMaxSnapshots / 2);
  ASSERT_LE(history.size(), StreamSplitter::kMaxSnapshots);
  // 40000 records, 64 at first, interval doubled twice: every 256 records, then the end.
  EXPECT_EQ(history.front().record, 256);
  for (size_t i = 1; i + 1 < history.size(); ++i) EXPECT_EQ(history[i].record - history[i - 1].record, 256);
  EXPECT_EQ(history.back().record, 40000);
  int64_t total = 0;
  for (int32_t label : splitter.reservoir().labels()) {
    EXPECT_EQ(history.back().sizes.at(static_cast<size_t>(label)), splitter.reservoir().reservoir(label).size());
    total += history.back().sizes.at(static_cast<size_t>(label));
  }
  EXPECT_EQ(total, splitter.reservoir().total_items());
  EXPECT_LE(total, 400);
}

}  // namespace
}  // namespace stratum::data
