#pragma once
// The per-split tables `stratum train` and `stratum eval` print after evaluating.

#include <vector>

#include "engine/evaluator.h"

namespace stratum::cli {

/// One row per non-empty split: loss, accuracy, macro-F1 and ECE for classifiers; tokens,
/// loss, perplexity and next-token accuracy for language models.
void print_evaluation_table(const std::vector<SplitEvaluation>& splits);

/// Per split and eval.slices entry: each group's count and headline metric (accuracy, or
/// perplexity for language models) with its 95% interval, the gap, and any alert.
void print_slice_tables(const std::vector<SplitEvaluation>& splits);

}  // namespace stratum::cli
