#pragma once
// Active learning: which unlabeled examples to label next. Uncertainty scores from a model's
// class probabilities (least confidence, margin, entropy), and a diverse batch by k-center
// greedy selection on the model's embeddings, so the batch is not k near-copies of one input.

#include <torch/types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace stratum::data {

/// How unsure a prediction is; every measure is higher for less certain predictions.
enum class Uncertainty {
  least_confidence,  ///< 1 - max p
  margin,            ///< 1 - (p1 - p2), the two most likely classes
  entropy,           ///< -sum p log p (nats)
};

/// "least_confidence", "margin" or "entropy"; anything else is a UserError naming `flag`.
Uncertainty parse_uncertainty(const std::string& name, const std::string& flag);

/// (N) scores of (N, classes) probabilities.
torch::Tensor uncertainty_scores(const torch::Tensor& probabilities, Uncertainty measure);

/// Indices of the `k` examples to label. Without `embeddings` (undefined): the k highest
/// scores. With (N, D) embeddings: k-center greedy among the `pool_factor` x k most uncertain,
/// starting from the most uncertain and repeatedly adding the candidate farthest (Euclidean)
/// from everything chosen, so near-duplicates are not picked twice.
std::vector<int64_t> select_for_labeling(const torch::Tensor& scores, const torch::Tensor& embeddings, int64_t k,
                                         int64_t pool_factor = 10);

}  // namespace stratum::data
