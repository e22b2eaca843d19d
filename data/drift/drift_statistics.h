#pragma once
// Distances between a reference distribution and a current one: on the label mix (total
// variation, population stability index) and per numeric feature (Kolmogorov-Smirnov,
// Wasserstein-1), each computed exactly from the two samples.

#include <cstdint>
#include <vector>

namespace stratum::data {

/// Total-variation distance between two count vectors, normalized to distributions:
/// 0.5 * sum |p - q|, in [0, 1]. Missing trailing classes count as zero.
double total_variation(const std::vector<int64_t>& reference, const std::vector<int64_t>& current);

/// Population stability index sum (q - p) * ln(q / p) over classes, with each share floored
/// at `epsilon` so an empty class stays finite. Common reading: < 0.1 stable, > 0.25 shifted.
double population_stability_index(const std::vector<int64_t>& reference, const std::vector<int64_t>& current,
                                  double epsilon = 1e-4);

/// Two-sample Kolmogorov-Smirnov statistic: the largest gap between the empirical CDFs.
double ks_statistic(std::vector<double> a, std::vector<double> b);

/// Two-sample Wasserstein-1 distance: the area between the empirical CDFs.
double wasserstein1(std::vector<double> a, std::vector<double> b);

}  // namespace stratum::data
