#include "data/quality/selection.h"

#include <torch/torch.h>

#include <algorithm>

#include "core/error.h"

namespace stratum::data {

Uncertainty parse_uncertainty(const std::string& name, const std::string& flag) {
  if (name == "least_confidence") return Uncertainty::least_confidence;
  if (name == "margin") return Uncertainty::margin;
  if (name == "entropy") return Uncertainty::entropy;
  throw UserError(flag + ": expected least_confidence, margin or entropy, got \"" + name + "\"");
}

torch::Tensor uncertainty_scores(const torch::Tensor& probabilities, Uncertainty measure) {
  const torch::Tensor p = probabilities.to(torch::kFloat64);
  switch (measure) {
    case Uncertainty::least_confidence: return 1.0 - std::get<0>(p.max(1));
    case Uncertainty::margin: {
      if (p.size(1) < 2) return torch::zeros({p.size(0)}, p.options());
      const torch::Tensor top = std::get<0>(p.topk(2, 1));
      return 1.0 - (top.select(1, 0) - top.select(1, 1));
    }
    case Uncertainty::entropy: return -(p * p.clamp_min(1e-300).log()).sum(1);
  }
  return {};
}

std::vector<int64_t> select_for_labeling(const torch::Tensor& scores, const torch::Tensor& embeddings, int64_t k,
                                         int64_t pool_factor) {
  const int64_t n = scores.size(0);
  k = std::min(k, n);
  if (k <= 0) return {};
  // Descending by score; ties by index so the choice is deterministic.
  const torch::Tensor order = std::get<1>(scores.to(torch::kFloat64).sort(/*stable=*/true, 0, /*descending=*/true));
  const auto* ranked = order.data_ptr<int64_t>();
  if (!embeddings.defined()) return std::vector<int64_t>(ranked, ranked + k);

  const int64_t pool = std::min(n, std::max(k, k * pool_factor));
  const torch::Tensor candidates = order.slice(0, 0, pool);
  const torch::Tensor points = embeddings.index_select(0, candidates).to(torch::kFloat64);
  std::vector<int64_t> chosen = {ranked[0]};
  torch::Tensor nearest = (points - points[0]).pow(2).sum(1);  // squared distance to the chosen set
  nearest[0] = -1;
  for (int64_t round = 1; round < k; ++round) {
    const int64_t next = nearest.argmax().item<int64_t>();  // the first maximum: the most uncertain of equals
    chosen.push_back(ranked[next]);
    nearest = torch::minimum(nearest, (points - points[next]).pow(2).sum(1));
    nearest[next] = -1;
  }
  return chosen;
}

}  // namespace stratum::data
