#include "data/drift/drift_statistics.h"

#include <algorithm>
#include <cmath>

namespace stratum::data {
namespace {

std::vector<double> shares(const std::vector<int64_t>& counts, size_t classes) {
  std::vector<double> p(classes, 0.0);
  double total = 0;
  for (int64_t c : counts) total += static_cast<double>(c);
  if (total == 0) return p;
  for (size_t i = 0; i < counts.size(); ++i) p[i] = static_cast<double>(counts[i]) / total;
  return p;
}

// Walks the merged sorted samples, calling f(gap between the CDFs, width to the next point).
template <class F>
void walk_cdfs(std::vector<double>& a, std::vector<double>& b, F f) {
  std::sort(a.begin(), a.end());
  std::sort(b.begin(), b.end());
  size_t i = 0, j = 0;
  const double na = static_cast<double>(a.size()), nb = static_cast<double>(b.size());
  while (i < a.size() || j < b.size()) {
    const double x = j == b.size() || (i < a.size() && a[i] <= b[j]) ? a[i] : b[j];
    while (i < a.size() && a[i] == x) ++i;
    while (j < b.size() && b[j] == x) ++j;
    double next = x;  // the last point: nothing to its right
    if (i < a.size() && j < b.size()) {
      next = std::min(a[i], b[j]);
    } else if (i < a.size()) {
      next = a[i];
    } else if (j < b.size()) {
      next = b[j];
    }
    f(std::fabs(static_cast<double>(i) / na - static_cast<double>(j) / nb), next - x);
  }
}

}  // namespace

double total_variation(const std::vector<int64_t>& reference, const std::vector<int64_t>& current) {
  const size_t classes = std::max(reference.size(), current.size());
  const auto p = shares(reference, classes), q = shares(current, classes);
  double sum = 0;
  for (size_t i = 0; i < classes; ++i) sum += std::fabs(p[i] - q[i]);
  return 0.5 * sum;
}

double population_stability_index(const std::vector<int64_t>& reference, const std::vector<int64_t>& current,
                                  double epsilon) {
  const size_t classes = std::max(reference.size(), current.size());
  const auto p = shares(reference, classes), q = shares(current, classes);
  double sum = 0;
  for (size_t i = 0; i < classes; ++i) {
    const double pi = std::max(p[i], epsilon), qi = std::max(q[i], epsilon);
    sum += (qi - pi) * std::log(qi / pi);
  }
  return sum;
}

double ks_statistic(std::vector<double> a, std::vector<double> b) {
  if (a.empty() || b.empty()) return 0;
  double d = 0;
  walk_cdfs(a, b, [&](double gap, double) { d = std::max(d, gap); });
  return d;
}

double wasserstein1(std::vector<double> a, std::vector<double> b) {
  if (a.empty() || b.empty()) return 0;
  double area = 0;
  walk_cdfs(a, b, [&](double gap, double width) { area += gap * width; });
  return area;
}

}  // namespace stratum::data
