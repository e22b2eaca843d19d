#include "core/bootstrap.h"

#include <algorithm>
#include <cmath>
#include <random>

namespace stratum {

std::pair<double, double> percentile_interval(std::vector<double> samples, double level) {
  if (samples.empty()) return {0, 0};
  std::sort(samples.begin(), samples.end());
  const double n = static_cast<double>(samples.size());
  // Percentile ranks of the interval's ends, e.g. 25 and 974 of 1,000 for 95%.
  const double tail = (1 - level) / 2 * n;
  const auto rank = [&](double r) { return samples[static_cast<size_t>(std::clamp(r, 0.0, n - 1.0))]; };
  return {rank(std::floor(tail)), rank(std::ceil(n - tail) - 1)};
}

std::pair<double, double> bootstrap_mean_interval(const std::vector<double>& values, uint64_t seed, int resamples,
                                                  double level) {
  const size_t n = values.size();
  if (n == 0 || resamples <= 0) return {0, 0};
  std::mt19937_64 stream(seed);
  std::uniform_int_distribution<size_t> pick(0, n - 1);
  std::vector<double> means(static_cast<size_t>(resamples));
  for (double& mean : means) {
    double sum = 0;
    for (size_t i = 0; i < n; ++i) sum += values[pick(stream)];
    mean = sum / static_cast<double>(n);
  }
  return percentile_interval(std::move(means), level);
}

}  // namespace stratum
