#pragma once
// A sweep's results: results.csv (one row per run), settings.csv (one row per setting: mean,
// standard deviation and 95% interval over its seeds) and results.json (both).

#include <string>

#include "engine/experiments/sweep_state.h"

namespace stratum::experiments {

/// Writes the three files into `dir` from the runs' directories; returns a console table of
/// the settings.
std::string write_sweep_results(const SweepState& state, const std::string& dir);

}  // namespace stratum::experiments
