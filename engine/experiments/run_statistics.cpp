#include "engine/experiments/run_statistics.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <stdexcept>

namespace stratum::experiments {

double t_quantile_975(int64_t dof) {
  // Student's t, two-sided 95%, for 1..30 degrees of freedom; the normal's 1.96 beyond.
  static const double table[] = {12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
                                 2.201,  2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
                                 2.080,  2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042};
  if (dof < 1) return std::nan("");
  if (dof <= 30) return table[dof - 1];
  if (dof <= 60) return 2.042 + (2.000 - 2.042) * static_cast<double>(dof - 30) / 30.0;
  if (dof <= 120) return 2.000 + (1.980 - 2.000) * static_cast<double>(dof - 60) / 60.0;
  return 1.960;
}

SeedSummary summarize_seeds(const std::vector<double>& values) {
  SeedSummary s;
  double sum = 0;
  for (double v : values) {
    if (std::isnan(v)) continue;
    ++s.n;
    sum += v;
  }
  if (s.n == 0) {
    s.mean = s.std = s.ci_low = s.ci_high = std::nan("");
    return s;
  }
  s.mean = sum / static_cast<double>(s.n);
  double squares = 0;
  for (double v : values) {
    if (!std::isnan(v)) squares += (v - s.mean) * (v - s.mean);
  }
  s.std = s.n > 1 ? std::sqrt(squares / static_cast<double>(s.n - 1)) : 0.0;
  const double half = s.n > 1 ? t_quantile_975(s.n - 1) * s.std / std::sqrt(static_cast<double>(s.n)) : 0.0;
  s.ci_low = s.mean - half;
  s.ci_high = s.mean + half;
  return s;
}

double accuracy_of(const LabeledPredictions& p, const std::vector<int64_t>& rows) {
  if (rows.empty()) return std::nan("");
  int64_t right = 0;
  for (int64_t r : rows) right += p.target[static_cast<size_t>(r)] == p.predicted[static_cast<size_t>(r)];
  return static_cast<double>(right) / static_cast<double>(rows.size());
}

double macro_f1_of(const LabeledPredictions& p, const std::vector<int64_t>& rows) {
  const auto classes = static_cast<size_t>(p.num_classes);
  std::vector<int64_t> tp(classes, 0), fp(classes, 0), fn(classes, 0);
  for (int64_t r : rows) {
    const int64_t t = p.target[static_cast<size_t>(r)], y = p.predicted[static_cast<size_t>(r)];
    if (t < 0) continue;
    if (t == y) {
      ++tp[static_cast<size_t>(t)];
    } else {
      ++fn[static_cast<size_t>(t)];
      ++fp[static_cast<size_t>(y)];
    }
  }
  double sum = 0;
  int64_t present = 0;
  for (size_t c = 0; c < classes; ++c) {
    if (tp[c] + fp[c] + fn[c] == 0) continue;
    ++present;
    sum += 2.0 * static_cast<double>(tp[c]) / static_cast<double>(2 * tp[c] + fp[c] + fn[c]);
  }
  return present > 0 ? sum / static_cast<double>(present) : std::nan("");
}

namespace {

double quantile(std::vector<double> v, double q) {
  v.erase(std::remove_if(v.begin(), v.end(), [](double x) { return std::isnan(x); }), v.end());
  if (v.empty()) return std::nan("");
  std::sort(v.begin(), v.end());
  const double at = q * static_cast<double>(v.size() - 1);
  const auto lo = static_cast<size_t>(std::floor(at));
  const size_t hi = std::min(v.size() - 1, lo + 1);
  return v[lo] + (v[hi] - v[lo]) * (at - static_cast<double>(lo));
}

// Resamples the examples `resamples` times and collects statistic(rows) for each.
template <class F>
PairedDifference bootstrap(size_t n, int64_t resamples, uint64_t seed, F statistic) {
  std::vector<int64_t> all(n);
  for (size_t i = 0; i < n; ++i) all[i] = static_cast<int64_t>(i);
  PairedDifference out;
  const auto [acc, f1] = statistic(all);
  out.accuracy.value = acc;
  out.macro_f1.value = f1;
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int64_t> pick(0, static_cast<int64_t>(n) - 1);
  std::vector<double> accs, f1s;
  std::vector<int64_t> rows(n);
  for (int64_t b = 0; b < resamples && n > 0; ++b) {
    for (auto& r : rows) r = pick(rng);
    const auto [a, f] = statistic(rows);
    accs.push_back(a);
    f1s.push_back(f);
  }
  out.accuracy.low = resamples > 0 ? quantile(accs, 0.025) : acc;
  out.accuracy.high = resamples > 0 ? quantile(accs, 0.975) : acc;
  out.macro_f1.low = resamples > 0 ? quantile(f1s, 0.025) : f1;
  out.macro_f1.high = resamples > 0 ? quantile(f1s, 0.975) : f1;
  return out;
}

}  // namespace

PairedDifference paired_bootstrap(const LabeledPredictions& a, const LabeledPredictions& b, int64_t resamples,
                                  uint64_t seed) {
  if (a.target.size() != b.target.size()) throw std::invalid_argument("paired_bootstrap: different example counts");
  return bootstrap(a.target.size(), resamples, seed, [&](const std::vector<int64_t>& rows) {
    return std::make_pair(accuracy_of(b, rows) - accuracy_of(a, rows), macro_f1_of(b, rows) - macro_f1_of(a, rows));
  });
}

PairedDifference bootstrap_scores(const LabeledPredictions& p, int64_t resamples, uint64_t seed) {
  return bootstrap(p.target.size(), resamples, seed, [&](const std::vector<int64_t>& rows) {
    return std::make_pair(accuracy_of(p, rows), macro_f1_of(p, rows));
  });
}

}  // namespace stratum::experiments
