#include "data/sampling/label_reservoir.h"

#include <gtest/gtest.h>

#include <cmath>
#include <sstream>
#include <vector>

namespace stratum::data {
namespace {

// Streams n records (offset = index, time = index) through a reservoir of capacity k and
// returns the kept indices.
std::vector<int64_t> sample(uint64_t seed, bool weighted, int64_t k, int64_t n, double decay = 0) {
  LabelReservoir r(seed, 1, weighted);
  r.set_capacity(k);
  for (int64_t i = 0; i < n; ++i) {
    const int64_t slot = r.offer(decay * static_cast<double>(i));
    if (slot >= 0) r.items()[slot].origin.offset = static_cast<uint64_t>(i);
  }
  std::vector<int64_t> kept;
  for (const auto& item : r.items()) kept.push_back(static_cast<int64_t>(item.origin.offset));
  return kept;
}

// Pearson's chi-square statistic of observed counts against expected counts.
double chi_square(const std::vector<double>& observed, const std::vector<double>& expected) {
  double x = 0;
  for (size_t i = 0; i < observed.size(); ++i) x += (observed[i] - expected[i]) * (observed[i] - expected[i]) / expected[i];
  return x;
}

// Every index of a uniform sample must be kept with probability k/n: chi-square over 100
// cells (99 degrees of freedom; 148.2 is the 0.1% critical value).
void expect_uniform_inclusion(bool weighted) {
  const int64_t k = 10, n = 100, trials = 20000;
  std::vector<double> counts(n, 0);
  for (int64_t t = 0; t < trials; ++t) {
    const auto kept = sample(1000 + static_cast<uint64_t>(t), weighted, k, n);
    ASSERT_EQ(static_cast<int64_t>(kept.size()), k);
    for (int64_t i : kept) counts[i] += 1;
  }
  const std::vector<double> expected(n, static_cast<double>(trials * k) / n);
  EXPECT_LT(chi_square(counts, expected), 148.2);
}

TEST(LabelReservoir, AlgorithmLIncludesEveryRecordWithProbabilityKOverN) { expect_uniform_inclusion(false); }

TEST(LabelReservoir, WeightedWithZeroDecayIsUniform) { expect_uniform_inclusion(true); }

TEST(LabelReservoir, DecayFavoursRecentRecordsByTheExpectedRatio) {
  // With one slot, A-ExpJ keeps record i with probability w_i / sum(w): w_i = exp(0.3 i).
  const int64_t n = 10, trials = 40000;
  const double decay = 0.3;
  std::vector<double> counts(n, 0), expected(n, 0);
  double total_weight = 0;
  for (int64_t i = 0; i < n; ++i) total_weight += std::exp(decay * i);
  for (int64_t i = 0; i < n; ++i) expected[i] = trials * std::exp(decay * i) / total_weight;
  for (int64_t t = 0; t < trials; ++t) counts[sample(7 + static_cast<uint64_t>(t), true, 1, n, decay)[0]] += 1;
  EXPECT_LT(chi_square(counts, expected), 27.9);  // 9 degrees of freedom, 0.1% critical value
  // The newest record is kept exp(0.3 * 9) ~ 14.9 times as often as the oldest.
  EXPECT_NEAR(counts[n - 1] / counts[0], std::exp(decay * (n - 1)), 3.0);
}

TEST(LabelReservoir, LongDecayedStreamsNeverOverflow) {
  // Weights up to exp(2e6) would overflow a double; keys in log space must not.
  const auto kept = sample(3, true, 50, 200000, 10.0);
  ASSERT_EQ(kept.size(), 50u);
  int64_t recent = 0;
  for (int64_t i : kept) recent += i >= 200000 - 1000;
  EXPECT_GE(recent, 45);  // a strong decay keeps (almost) only the newest records
}

TEST(LabelReservoir, ShrinkingEvictsAndGrowingRefillsAtTheSamplingRate) {
  LabelReservoir r(1, 1, false);
  r.set_capacity(100);
  for (int i = 0; i < 1000; ++i) {
    const int64_t slot = r.offer(0);
    if (slot >= 0) r.items()[slot].origin.offset = static_cast<uint64_t>(i);
  }
  std::vector<Record> evicted;
  r.set_capacity(40, &evicted);
  EXPECT_EQ(r.size(), 40);
  EXPECT_EQ(evicted.size(), 60u);
  // 40 of 1,000 kept: new room fills at about 4% of later records, not with the next ten.
  r.set_capacity(50);
  int taken = 0;
  for (int i = 0; i < 10; ++i) taken += r.offer(0) >= 0;
  EXPECT_LE(taken, 3);
  for (int i = 0; i < 5000 && r.size() < 50; ++i) r.offer(0);
  EXPECT_EQ(r.size(), 50);
}

TEST(LabelReservoir, EvictLowersTheCapacityByOne) {
  for (bool weighted : {false, true}) {
    LabelReservoir r(2, 1, weighted);
    r.set_capacity(10);
    for (int i = 0; i < 100; ++i) r.offer(0.01 * i);
    r.evict();
    EXPECT_EQ(r.size(), 9);
    EXPECT_EQ(r.capacity(), 9);
  }
}

TEST(LabelReservoir, SaveAndLoadContinueIdentically) {
  for (bool weighted : {false, true}) {
    LabelReservoir a(9, 2, weighted), b(0, 0, weighted);
    a.set_capacity(16);
    for (int i = 0; i < 500; ++i) {
      const int64_t slot = a.offer(0.01 * i);
      if (slot >= 0) a.items()[slot].origin.offset = static_cast<uint64_t>(i);
    }
    std::stringstream state;
    a.save(state);
    b.load(state, "state");
    for (int i = 500; i < 5000; ++i) ASSERT_EQ(a.offer(0.01 * i), b.offer(0.01 * i)) << "record " << i;
    EXPECT_EQ(a.seen(), b.seen());
  }
}

}  // namespace
}  // namespace stratum::data
