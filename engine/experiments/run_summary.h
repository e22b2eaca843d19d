#pragma once
// What a run directory says about itself, read back for sweeps and comparisons: its final
// metrics (eval.json), its curves (metrics.jsonl), its resolved config and its data manifest.

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace stratum::experiments {

/// (step, value) points of one curve.
using Curve = std::vector<std::pair<double, double>>;

/// One run directory, as far as it got.
struct RunSummary {
  std::string dir;
  bool evaluated = false;  ///< eval.json is there: the run finished
  int64_t steps = 0;       ///< eval.json's step
  std::string weights;     ///< which weights the final evaluation scored (last, ema, best)
  /// "split.metric" -> value, in eval.json order (loss, accuracy, macro_f1, perplexity, ...).
  std::vector<std::pair<std::string, double>> metrics;
  double peak_rss_bytes = -1, peak_cuda_bytes = -1;  ///< -1: not recorded
  double samples_per_second = -1;  ///< mean training throughput over the logged windows (-1: none)
  bool language_model = false;
  // Curves from metrics.jsonl.
  Curve train_loss, throughput;
  std::map<std::string, Curve> eval_loss, eval_score;  ///< split -> curve
  std::string score_name = "accuracy";

  double metric(const std::string& key) const;  ///< NaN when absent
};

/// Reads `dir`; a run directory with no eval.json and no metrics.jsonl is a UserError naming it.
RunSummary read_run_summary(const std::string& dir);

/// The metrics reported per run in sweep results and comparisons, for classifiers or
/// language models.
const std::vector<std::string>& reported_metrics(bool language_model);

}  // namespace stratum::experiments
