#pragma once
// The statistics sweeps and comparisons report: mean, standard deviation and a t-based 95%
// confidence interval over seeds, and paired bootstrap intervals over the same examples.

#include <cstdint>
#include <vector>

namespace stratum::experiments {

/// A metric over several runs of one setting.
struct SeedSummary {
  int64_t n = 0;
  double mean = 0;
  double std = 0;                ///< sample standard deviation (0 with one run)
  double ci_low = 0, ci_high = 0;  ///< 95% interval of the mean (Student's t; the mean itself with one run)
};

/// NaNs are left out.
SeedSummary summarize_seeds(const std::vector<double>& values);

/// The 0.975 quantile of Student's t with `dof` degrees of freedom.
double t_quantile_975(int64_t dof);

/// A bootstrap interval: the statistic on the data, and the 2.5% and 97.5% quantiles over resamples.
struct BootstrapInterval {
  double value = 0, low = 0, high = 0;
};

/// Classifier outcomes for the bootstrap: true and predicted class per example.
struct LabeledPredictions {
  std::vector<int64_t> target, predicted;
  int64_t num_classes = 0;
};

/// Accuracy and macro-F1 (classes present in the truth or the predictions, as scikit-learn)
/// of `p` restricted to the examples `rows` (with repeats).
double accuracy_of(const LabeledPredictions& p, const std::vector<int64_t>& rows);
double macro_f1_of(const LabeledPredictions& p, const std::vector<int64_t>& rows);

/// Bootstrap intervals of accuracy and macro-F1 of `b` minus `a` over the same examples,
/// resampled together (`resamples` draws, seeded). `a` and `b` must score the same examples.
struct PairedDifference {
  BootstrapInterval accuracy, macro_f1;
};
PairedDifference paired_bootstrap(const LabeledPredictions& a, const LabeledPredictions& b, int64_t resamples,
                                  uint64_t seed);

/// Bootstrap intervals of one run's accuracy and macro-F1.
PairedDifference bootstrap_scores(const LabeledPredictions& p, int64_t resamples, uint64_t seed);

}  // namespace stratum::experiments
