#include "engine/lr_schedule.h"

#include <algorithm>
#include <cmath>

namespace stratum {

double learning_rate(const TrainerOptions& options, int64_t step, int64_t total_steps) {
  const double peak = options.lr;
  if (step < options.warmup_steps) return peak * static_cast<double>(step + 1) / static_cast<double>(options.warmup_steps);
  if (options.schedule == Schedule::constant) return peak;
  const double floor = peak * options.min_lr_ratio;
  const int64_t decay_steps = std::max<int64_t>(1, total_steps - options.warmup_steps - 1);
  const double progress = std::clamp(static_cast<double>(step - options.warmup_steps) / decay_steps, 0.0, 1.0);
  if (options.schedule == Schedule::linear) return floor + (peak - floor) * (1.0 - progress);
  // The learning-rate range test rises exponentially from the floor to the peak.
  if (options.schedule == Schedule::range_test) return floor * std::pow(peak / std::max(floor, 1e-30), progress);
  return floor + (peak - floor) * 0.5 * (1.0 + std::cos(M_PI * progress));  // cosine
}

}  // namespace stratum
