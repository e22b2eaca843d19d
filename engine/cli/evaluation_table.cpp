#include "engine/cli/evaluation_table.h"

#include <cstdio>

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

}  // namespace stratum::cli
