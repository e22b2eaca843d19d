#include "engine/cli/evaluation_table.h"

#include <algorithm>
#include <cstdio>

#include "core/text.h"

namespace stratum::cli {

void print_evaluation_table(const std::vector<SplitEvaluation>& splits) {
  const bool language_model = !splits.empty() && splits[0].language_model;
  if (language_model) {
    std::printf("\n%-11s %8s %10s %8s %10s %9s\n", "split", "samples", "tokens", "loss", "perplexity", "token-acc");
  } else {
    std::printf("\n%-11s %8s %8s %9s %9s %7s\n", "split", "samples", "loss", "accuracy", "macro-F1", "ECE");
  }
  for (const auto& e : splits) {
    if (e.samples == 0) continue;  // e.g. no unseen split
    if (language_model) {
      std::printf("%-11s %8lld %10lld %8.4f %10.3f %9.4f\n", e.split.c_str(), static_cast<long long>(e.samples),
                  static_cast<long long>(e.tokens), e.loss, e.perplexity, e.scores.accuracy);
    } else {
      std::printf("%-11s %8lld %8.4f %9.4f %9.4f %7.4f\n", e.split.c_str(), static_cast<long long>(e.samples), e.loss,
                  e.scores.accuracy, e.scores.macro_f1, e.ece);
    }
  }
}

void print_slice_tables(const std::vector<SplitEvaluation>& splits) {
  for (const auto& e : splits) {
    for (const SliceEvaluation& slice : e.slices) {
      const std::string metric = e.language_model ? "perplexity" : "accuracy";
      std::printf("\n%s split by %s\n%-32s %8s %10s  %-18s\n", e.split.c_str(), slice.name.c_str(), "slice", "count",
                  metric.c_str(), "95% interval");
      for (size_t g = 0; g < slice.result.groups.size(); ++g) {
        const SliceGroupResult& group = slice.result.groups[g];
        const auto& names = slice_metric_names(e.language_model);
        const size_t m = static_cast<size_t>(std::find(names.begin(), names.end(), metric) - names.begin());
        const auto interval = m < group.intervals.size() ? group.intervals[m] : std::pair<double, double>{0, 0};
        std::printf("%-32.32s %8lld %10.4f  %-18s%s\n", group.name.c_str(), static_cast<long long>(group.scores.count),
                    slice_metric(group.scores, metric),
                    slice.result.resamples > 0
                        ? (fixed4(interval.first) + " to " + fixed4(interval.second)).c_str()
                        : "",
                    group.ranked ? "" : "  (too few to rank)");
      }
      for (const SliceDisparity& d : slice.result.disparities) {
        if (d.metric != metric || !d.available) continue;
        std::printf("gap %.4f (95%% interval %s to %s) between %s and the worst, %s\n", d.difference,
                    fixed4(d.difference_interval.first).c_str(), fixed4(d.difference_interval.second).c_str(),
                    d.best.c_str(), d.worst.c_str());
      }
      for (const SliceAlert& alert : slice.alerts) std::printf("ALERT %s\n", alert.describe().c_str());
    }
  }
}

}  // namespace stratum::cli
