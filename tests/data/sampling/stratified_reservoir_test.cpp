#include "data/sampling/stratified_reservoir.h"

#include <gtest/gtest.h>

#include <map>
#include <set>
#include <sstream>

#include "core/error.h"
#include "data/rng.h"
#include "data/sampling/quota_plan.h"

namespace stratum::data {
namespace {

Record make_record(uint64_t index, std::vector<int32_t> labels, std::string payload = "") {
  Record r;
  r.labels = std::move(labels);
  r.payload = payload.empty() ? std::to_string(index) : std::move(payload);
  r.time = static_cast<double>(index);
  r.origin.offset = index;
  return r;
}

data::ReservoirOptions small_options() {
  data::ReservoirOptions o;
  o.min_per_label = 50;
  o.max_per_label = 400;
  o.label_share_cap = 0.5;
  o.max_items = 1000;
  o.max_bytes = int64_t{1} << 30;
  o.rebalance_every = 256;
  return o;
}

// A stream where label 0 is 99% of records and labels 1..9 share the rest.
int32_t skewed_label(Rng& rng) { return rng.uniform() < 0.99 ? 0 : static_cast<int32_t>(1 + rng.below(9)); }

TEST(QuotaPlan, UsableMinimumsFirstThenWaterFillingThenHeadroom) {
  data::ReservoirOptions o = small_options();  // cap per label: min(400, 0.5 * 1000) = 400
  EXPECT_EQ(per_label_cap(o), 400);
  // A scarce label keeps what it has; the others share the rest up to the cap.
  EXPECT_EQ(plan_capacities({10000, 10000, 20}, o), (std::vector<int64_t>{400, 400, 200}));
  // Unused capacity is lent as headroom and taken back when a new label needs it.
  EXPECT_EQ(plan_capacities({10000, 5}, o), (std::vector<int64_t>{400, 400}));
  // A minimum is reserved as far as the label has records; the rest is lent until they come.
  o.max_items = 500;
  EXPECT_EQ(plan_capacities({10000, 10000, 30}, o), (std::vector<int64_t>{235, 235, 30}));
  EXPECT_EQ(plan_capacities({10000, 10000, 60}, o), (std::vector<int64_t>{220, 220, 60}));
  // A byte cap that allows fewer items than max_items is the budget instead.
  EXPECT_EQ(plan_capacities({10000, 10000}, o, 300), (std::vector<int64_t>{150, 150}));
  // Minimums that alone exceed the global cap become equal shares.
  o.max_items = 90;
  EXPECT_EQ(plan_capacities({1000, 1000, 1000}, o), (std::vector<int64_t>{30, 30, 30}));
}

TEST(StratifiedReservoir, QuotasHoldWhenOneLabelIs99Percent) {
  const data::ReservoirOptions o = small_options();
  StratifiedReservoir sampler(o, 11);
  Rng stream(5);
  std::map<int32_t, int64_t> offered;
  for (uint64_t i = 0; i < 200000; ++i) {
    const int32_t label = skewed_label(stream);
    ++offered[label];
    sampler.offer(make_record(i, {label}));
    ASSERT_LE(sampler.total_items(), o.max_items) << "after record " << i;
  }
  sampler.rebalance();
  EXPECT_LE(sampler.reservoir(0).size(), per_label_cap(o));
  for (int32_t label = 1; label <= 9; ++label) {
    // ~220 records each: every minor label keeps at least its minimum.
    EXPECT_GE(sampler.reservoir(label).size(), std::min<int64_t>(offered[label], o.min_per_label)) << label;
  }
  // The sample is far more balanced than the stream (99:0.1 -> at most 400:50).
  EXPECT_LE(static_cast<double>(sampler.reservoir(0).size()) / sampler.reservoir(1).size(), 8.0);
}

TEST(StratifiedReservoir, ByteCapIsNeverExceeded) {
  data::ReservoirOptions o = small_options();
  o.max_bytes = 40000;
  StratifiedReservoir sampler(o, 3);
  Rng rng(1);
  for (uint64_t i = 0; i < 20000; ++i) {
    sampler.offer(make_record(i, {static_cast<int32_t>(rng.below(5))}, std::string(50 + rng.below(200), 'x')));
    ASSERT_LE(sampler.total_bytes(), o.max_bytes) << "after record " << i;
  }
  EXPECT_GT(sampler.stats().evicted, 0);
  int64_t bytes = 0;
  for (int32_t label : sampler.labels()) {
    for (const auto& item : sampler.reservoir(label).items()) bytes += static_cast<int64_t>(item.bytes());
  }
  EXPECT_EQ(bytes, sampler.total_bytes());
}

TEST(StratifiedReservoir, LateLabelGetsItsMinimumBack) {
  const data::ReservoirOptions o = small_options();
  StratifiedReservoir sampler(o, 4);
  uint64_t i = 0;
  for (; i < 20000; ++i) sampler.offer(make_record(i, {static_cast<int32_t>(i % 3)}));
  EXPECT_EQ(sampler.total_items(), 1000);  // three labels fill the global cap with headroom
  for (int k = 0; k < 60; ++k, ++i) sampler.offer(make_record(i, {7}));
  sampler.rebalance();
  EXPECT_GE(sampler.reservoir(7).size(), o.min_per_label);  // scarce: its minimum was reserved at once
  EXPECT_LE(sampler.total_items(), 1000);
}

TEST(StratifiedReservoir, MultiLabelPolicies) {
  data::ReservoirOptions primary = small_options();
  StratifiedReservoir a(primary, 1);
  a.offer(make_record(0, {2, 5, 6}));
  EXPECT_EQ(a.labels(), (std::vector<int32_t>{2}));

  data::ReservoirOptions split = small_options();
  split.multi_label = data::MultiLabel::split;
  split.max_labels_per_record = 2;
  StratifiedReservoir b(split, 1);
  EXPECT_EQ(b.offer(make_record(0, {2, 5, 6})), 2);  // capped at two reservoirs
  EXPECT_EQ(b.labels(), (std::vector<int32_t>{2, 5}));
  b.offer(make_record(1, {5, 2}));
  EXPECT_EQ(b.cooccurrence().at({2, 5}), 2);
  EXPECT_EQ(b.cooccurrence().at({2, 6}), 1);
  EXPECT_TRUE(b.reservoir(2).weighted());
}

TEST(StratifiedReservoir, DeduplicatesByPayloadBucket) {
  data::ReservoirOptions o = small_options();
  o.dedup = data::Dedup::payload;
  StratifiedReservoir sampler(o, 1);
  for (uint64_t i = 0; i < 30; ++i) sampler.offer(make_record(i, {0}, "same " + std::to_string(i % 3)));
  EXPECT_EQ(sampler.reservoir(0).size(), 3);
  EXPECT_EQ(sampler.stats().duplicates, 27);
}

TEST(StratifiedReservoir, CheckpointRestoreGivesTheSameSubsequentSamples) {
  for (double decay : {0.0, 0.001}) {
    data::ReservoirOptions o = small_options();
    o.decay = decay;
    o.max_bytes = 120000;  // byte-cap evictions are part of the state too
    StratifiedReservoir original(o, 21), restored(o, 21);
    Rng stream(8);
    std::vector<Record> records;
    for (uint64_t i = 0; i < 60000; ++i) {
      records.push_back(make_record(i, {skewed_label(stream) % 4}));
      // Slice fields are part of what the reservoirs keep (and of their byte count).
      if (i % 3 == 0) records.back().fields = {"\"north\"", i % 2 ? "" : std::to_string(i)};
    }
    for (uint64_t i = 0; i < 30000; ++i) original.offer(records[i]);
    std::stringstream state;
    original.save(state);
    restored.load(state, "checkpoint");
    for (uint64_t i = 30000; i < records.size(); ++i) ASSERT_EQ(original.offer(records[i]), restored.offer(records[i]));
    ASSERT_EQ(original.labels(), restored.labels());
    for (int32_t label : original.labels()) {
      const auto& x = original.reservoir(label).items();
      const auto& y = restored.reservoir(label).items();
      ASSERT_EQ(x.size(), y.size());
      for (size_t j = 0; j < x.size(); ++j) {
        EXPECT_EQ(x[j].origin.offset, y[j].origin.offset);
        EXPECT_EQ(x[j].fields, y[j].fields);
      }
    }
    EXPECT_EQ(original.total_bytes(), restored.total_bytes());
  }
}

TEST(StratifiedReservoir, CorruptStateIsAUserError) {
  StratifiedReservoir sampler(small_options(), 1);
  std::stringstream garbage("not a sampler state at all");
  EXPECT_THROW(sampler.load(garbage, "ckpt/sampler.bin"), UserError);
  StratifiedReservoir full(small_options(), 1);
  for (uint64_t i = 0; i < 100; ++i) full.offer(make_record(i, {0}));
  std::stringstream state;
  full.save(state);
  std::stringstream truncated(state.str().substr(0, state.str().size() / 2));
  EXPECT_THROW(sampler.load(truncated, "ckpt/sampler.bin"), UserError);
}

}  // namespace
}  // namespace stratum::data
