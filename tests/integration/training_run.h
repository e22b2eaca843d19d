#pragma once
// One `stratum train` run for integration tests, with what it wrote read back.

#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "integration/stratum_binary.h"

namespace stratum::testing {

/// What a finished run printed and wrote.
struct RunResult {
  std::string out;
  std::string run_dir;
  std::vector<double> train_losses;  ///< from metrics.jsonl, in order
  nlohmann::json eval;               ///< eval.json
};

/// step -> training loss, as a run's metrics.jsonl recorded it.
std::map<int64_t, double> logged_losses(const std::string& run_dir);

/// `stratum train --config CONFIG OVERRIDES` with its run directory under `dir`, on 2 threads;
/// expects exit code 0.
RunResult train(const std::string& config, const std::string& overrides, const TempDir& dir);

/// Each non-empty line of `text` parsed as JSON.
std::vector<nlohmann::json> json_lines(const std::string& text);

/// `--config configs/gpt-fortunes.yaml` shaped as the random GPT-2 of
/// scripts/parity/reference_models.py's `generate` and `score` (2 × 64, 4 heads, 128 positions).
extern const char* const kReferenceGptShape;

/// Overrides that shrink configs/gpt-fortunes.yaml (and the text classifier's) to a few
/// seconds: 48-token records, 3000 of them, a 2-block 32-wide model, no periodic evaluation.
extern const char* const kSmallText;

}  // namespace stratum::testing
