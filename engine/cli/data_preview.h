#pragma once
// `stratum data preview`: a grid of training examples as the model will see them (augmented,
// and mixed when trainer.mixup is on) next to the same examples as evaluation sees them.

#include <cstdint>
#include <string>

#include "data/split_data.h"
#include "engine/config.h"

namespace stratum::cli {

/// Writes DIR/training.png, DIR/evaluation.png and DIR/preview.json (each cell's label, record
/// and mixing share) for `count` evenly spaced seen examples in `epoch`; returns a summary line.
/// Data that are not images is a UserError.
std::string write_preview(const RunConfig& config, const data::SplitData& data, const std::string& dir, int64_t count,
                          int64_t epoch);

}  // namespace stratum::cli
