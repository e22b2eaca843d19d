// The bootstrap interval is a statistical promise: over many samples, the 95% interval of a
// mean holds the true value about 95% of the time. Tested with the power to fail: 400
// samples per case, and a too-narrow interval (an 80% one) must be caught by the same check.

#include "core/bootstrap.h"

#include <gtest/gtest.h>

#include <random>

namespace stratum {
namespace {

// The share of `trials` samples of `n` Bernoulli(p) items whose interval holds p.
double coverage(double p, size_t n, double level, int trials, uint64_t seed) {
  std::mt19937_64 draw(seed);
  std::bernoulli_distribution item(p);
  int covered = 0;
  for (int t = 0; t < trials; ++t) {
    std::vector<double> values(n);
    for (double& v : values) v = item(draw) ? 1.0 : 0.0;
    const auto [low, high] = bootstrap_mean_interval(values, seed * 1000 + static_cast<uint64_t>(t), 1000, level);
    covered += low <= p && p <= high;
  }
  return static_cast<double>(covered) / trials;
}

TEST(Bootstrap, NinetyFivePercentIntervalsCoverTheTrueMeanAboutNinetyFivePercentOfTheTime) {
  // Binomial noise of a coverage over 400 trials: sd = sqrt(.95 · .05 / 400) ≈ 0.011; the
  // percentile bootstrap under-covers a little for small n. Bounds: [0.91, 0.985].
  for (const double p : {0.25, 0.5, 0.8}) {
    for (const size_t n : {size_t{60}, size_t{300}}) {
      const double c = coverage(p, n, 0.95, 400, static_cast<uint64_t>(p * 100) + n);
      EXPECT_GE(c, 0.91) << "p " << p << ", n " << n;
      EXPECT_LE(c, 0.985) << "p " << p << ", n " << n;
    }
  }
  // The check has power: 80% intervals fall outside the bound.
  EXPECT_LT(coverage(0.5, 300, 0.80, 400, 99), 0.88);
}

TEST(Bootstrap, SameSeedSameIntervalAndEdgeCases) {
  const std::vector<double> values = {1, 0, 1, 1, 0, 1, 0, 1, 1, 1};
  EXPECT_EQ(bootstrap_mean_interval(values, 5), bootstrap_mean_interval(values, 5));
  const auto [low, high] = bootstrap_mean_interval(values, 5);
  EXPECT_LE(low, 0.7);
  EXPECT_GE(high, 0.7);
  EXPECT_LT(low, high);
  EXPECT_EQ(bootstrap_mean_interval({}, 5), (std::pair<double, double>{0, 0}));
  EXPECT_EQ(bootstrap_mean_interval({0.5, 0.5}, 5), (std::pair<double, double>{0.5, 0.5}));
}

}  // namespace
}  // namespace stratum
