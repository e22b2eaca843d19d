#pragma once
// The per-split table `stratum train` and `stratum eval` print after evaluating.

#include <vector>

#include "engine/evaluator.h"

namespace stratum::cli {

/// One row per non-empty split: loss, accuracy, macro-F1 and ECE for classifiers; tokens,
/// loss, perplexity and next-token accuracy for language models.
void print_evaluation_table(const std::vector<SplitEvaluation>& splits);

}  // namespace stratum::cli
