#include "engine/training/early_stopping.h"

#include <cmath>

#include "core/text.h"
#include "engine/evaluator.h"

namespace stratum::training {

EarlyStopping::EarlyStopping(const EarlyStoppingOptions& options)
    : options_(options),
      lower_(options.mode == MetricMode::automatic ? stratum::lower_is_better(options.metric)
                                                   : options.mode == MetricMode::min) {}

EarlyStopping::Verdict EarlyStopping::observe(double value, int64_t step) {
  const bool improved = std::isfinite(value) &&
                        (std::isnan(best_) || (lower_ ? value < best_ - options_.min_delta : value > best_ + options_.min_delta));
  if (improved) {
    best_ = value;
    best_step_ = step;
    waited_ = 0;
    return Verdict::improved;
  }
  ++waited_;
  return waited_ >= options_.patience ? Verdict::stop : Verdict::waiting;
}

void EarlyStopping::restore(double best, int64_t best_step, int64_t waited) {
  best_ = best;
  best_step_ = best_step;
  waited_ = waited;
}

std::string EarlyStopping::describe_stop() const {
  return options_.metric + " has not improved by more than " + format_number(options_.min_delta) + " for " +
         std::to_string(waited_) + " evaluations (best " + format_number(best_) + " at step " +
         std::to_string(best_step_) + ")";
}

}  // namespace stratum::training
