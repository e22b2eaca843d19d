#pragma once
// Scoring the endings of a multiple-choice item with a language model (HellaSwag style): each
// ending's log-likelihood given the context, summed over its tokens and per token.

#include <cstdint>
#include <vector>

namespace stratum::models {

class Model;

/// One ending's log-likelihood given the context.
struct EndingScore {
  double sum = 0;      ///< Σ log p(ending token | everything before it)
  int64_t tokens = 0;  ///< the ending's tokens that were scored
  double mean() const { return tokens > 0 ? sum / static_cast<double>(tokens) : 0.0; }
};

/// Scores every ending of one item in one batch: the sequences context + ending, right-padded
/// with `pad_token`, through the model's forward pass (evaluation mode, no gradients). Where a
/// sequence is longer than `max_length` positions the context loses its oldest tokens first (an
/// ending longer than max_length - 1 keeps its first tokens). `model` must be a language model.
std::vector<EndingScore> score_endings(Model& model, const std::vector<int64_t>& context,
                                       const std::vector<std::vector<int64_t>>& endings, int64_t pad_token,
                                       int64_t max_length);

}  // namespace stratum::models
