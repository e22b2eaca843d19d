#pragma once
// trainer.early_stopping: whether a run whose evaluation metric stopped improving should end.

#include <cstdint>
#include <limits>
#include <string>

#include "engine/config.h"

namespace stratum::training {

/// Follows one metric over a run's evaluations and says when patience has run out.
class EarlyStopping {
 public:
  explicit EarlyStopping(const EarlyStoppingOptions& options);

  enum class Verdict { improved, waiting, stop };

  /// The metric's value at an evaluation after `step`. A NaN (an empty split) never improves.
  Verdict observe(double value, int64_t step);

  /// Continues from a checkpoint's counters (best NaN: none yet).
  void restore(double best, int64_t best_step, int64_t waited);

  double best() const { return best_; }
  int64_t best_step() const { return best_step_; }
  int64_t waited() const { return waited_; }
  bool lower_is_better() const { return lower_; }
  /// "validation.loss has not improved by more than 0 for 5 evaluations (best 0.3121 at step 400)"
  std::string describe_stop() const;

 private:
  EarlyStoppingOptions options_;
  bool lower_;
  double best_ = std::numeric_limits<double>::quiet_NaN();
  int64_t best_step_ = 0;
  int64_t waited_ = 0;
};

}  // namespace stratum::training
