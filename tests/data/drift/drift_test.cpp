#include <gtest/gtest.h>

#include <cmath>

#include "data/drift/drift_monitor.h"
#include "data/drift/drift_statistics.h"
#include "data/rng.h"

namespace stratum::data {
namespace {

TEST(DriftStatistics, TotalVariationAndPsiByHand) {
  // p = (0.5, 0.5), q = (0.8, 0.2): TV = 0.3; PSI = 0.3 ln(1.6) + (-0.3) ln(0.4).
  EXPECT_NEAR(total_variation({50, 50}, {80, 20}), 0.3, 1e-12);
  EXPECT_NEAR(population_stability_index({50, 50}, {80, 20}), 0.3 * std::log(1.6) - 0.3 * std::log(0.4), 1e-12);
  EXPECT_NEAR(total_variation({10, 0}, {0, 0, 5}), 1.0, 1e-12);  // disjoint support, uneven lengths
  EXPECT_EQ(total_variation({3, 7}, {30, 70}), 0.0);
}

TEST(DriftStatistics, KolmogorovSmirnovAndWassersteinByHand) {
  // CDFs of {1,2,3} and {2,3,4} differ by 1/3 on [1,4): KS = 1/3, W1 = 3 * 1/3 = 1.
  EXPECT_NEAR(ks_statistic({1, 2, 3}, {2, 3, 4}), 1.0 / 3, 1e-12);
  EXPECT_NEAR(wasserstein1({1, 2, 3}, {2, 3, 4}), 1.0, 1e-12);
  // A shift by c moves W1 by exactly c; identical samples give 0.
  EXPECT_NEAR(wasserstein1({0, 0.5, 1}, {2.5, 3, 3.5}), 2.5, 1e-12);
  EXPECT_EQ(ks_statistic({1, 1, 2}, {1, 1, 2}), 0.0);
  // Unequal sizes: {0} vs {0, 1}: CDF gap 0.5 on [0, 1).
  EXPECT_NEAR(ks_statistic({0}, {0, 1}), 0.5, 1e-12);
  EXPECT_NEAR(wasserstein1({0}, {0, 1}), 0.5, 1e-12);
}

Record labeled(int32_t label, float feature) {
  Record r;
  r.labels = {label};
  r.features = {feature};
  return r;
}

TEST(DriftMonitor, RaisesOnLabelShiftAndCovariateShiftOnly) {
  data::DriftOptions options;
  options.window = 500;
  DriftMonitor monitor(options);
  Rng rng(1);
  std::vector<DriftEvent> events;
  const auto feed = [&](double p_label0, double mean) {
    for (int i = 0; i < 500; ++i) {
      const auto raised = monitor.observe(labeled(rng.uniform() < p_label0 ? 0 : 1, static_cast<float>(mean + rng.uniform())));
      events.insert(events.end(), raised.begin(), raised.end());
    }
  };
  feed(0.5, 0);  // reference
  feed(0.5, 0);  // same distribution: quiet
  EXPECT_TRUE(events.empty());
  feed(0.9, 0);  // label shift
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events[0].statistic, "tv");
  EXPECT_EQ(events[0].record, 1500);
  events.clear();
  feed(0.5, 0.5);  // covariate shift of half the feature's range
  bool ks = false;
  for (const auto& e : events) ks |= e.statistic == "ks" && e.subject == "feature 0";
  EXPECT_TRUE(ks);
  EXPECT_EQ(monitor.windows().size(), 3u);
  EXPECT_NEAR(monitor.windows()[2].max_wasserstein, 0.5, 0.1);
}

}  // namespace
}  // namespace stratum::data
