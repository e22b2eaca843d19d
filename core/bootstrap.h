#pragma once
// Percentile-bootstrap confidence intervals of a mean: how far a figure measured on a sample
// of items (an accuracy over benchmark items, a slice's metric) can be trusted.

#include <cstdint>
#include <utility>
#include <vector>

namespace stratum {

/// The central `level` interval of `samples` (a statistic's values over bootstrap resamples):
/// the percentile ranks floor(tail) and ceil(n - tail) - 1 of the sorted samples, tail = (1 -
/// level) / 2 · n. Empty samples give {0, 0}.
std::pair<double, double> percentile_interval(std::vector<double> samples, double level = 0.95);

/// The central `level` interval of the mean of `values` over `resamples` resamples of them
/// with replacement, drawn from `seed` (the same seed gives the same interval). Empty values
/// give {0, 0}.
std::pair<double, double> bootstrap_mean_interval(const std::vector<double>& values, uint64_t seed,
                                                  int resamples = 1000, double level = 0.95);

}  // namespace stratum
