#pragma once
// The learning rate as a pure function of the step, so resumed runs and tests agree exactly.

#include <cstdint>

#include "engine/config.h"

namespace stratum {

/// Learning rate for optimizer step `step` (0-based) of `total_steps`: linear warm-up from
/// lr/warmup to lr over `warmup_steps`, then constant, cosine or linear decay to lr * min_lr_ratio.
double learning_rate(const TrainerOptions& options, int64_t step, int64_t total_steps);

}  // namespace stratum
