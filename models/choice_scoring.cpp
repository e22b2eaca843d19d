#include "models/choice_scoring.h"

#include <torch/torch.h>

#include <algorithm>

#include "core/batch.h"
#include "core/error.h"
#include "models/model.h"

namespace stratum::models {

std::vector<EndingScore> score_endings(Model& model, const std::vector<int64_t>& context,
                                       const std::vector<std::vector<int64_t>>& endings, int64_t pad_token,
                                       int64_t max_length) {
  STRATUM_CHECK(model.is_language_model(), "scoring endings needs a language model");
  STRATUM_CHECK(!context.empty() && max_length >= 2, "a context and room for one ending token");
  std::vector<EndingScore> scores(endings.size());
  if (endings.empty()) return scores;
  // Each row: the kept context, then the kept ending; `first` is where the ending starts.
  std::vector<std::vector<int64_t>> rows;
  std::vector<int64_t> first;
  int64_t longest = 0;
  for (const auto& ending : endings) {
    STRATUM_CHECK(!ending.empty(), "endings are not empty (callers check)");
    const int64_t keep_ending = std::min<int64_t>(static_cast<int64_t>(ending.size()), max_length - 1);
    const int64_t keep_context = std::min<int64_t>(static_cast<int64_t>(context.size()), max_length - keep_ending);
    std::vector<int64_t> row(context.end() - keep_context, context.end());
    row.insert(row.end(), ending.begin(), ending.begin() + keep_ending);
    first.push_back(keep_context);
    longest = std::max<int64_t>(longest, static_cast<int64_t>(row.size()));
    rows.push_back(std::move(row));
  }
  const int64_t batch = static_cast<int64_t>(rows.size());
  std::vector<int64_t> flat(static_cast<size_t>(batch * longest), pad_token);
  for (int64_t b = 0; b < batch; ++b) {
    std::copy(rows[static_cast<size_t>(b)].begin(), rows[static_cast<size_t>(b)].end(), flat.begin() + b * longest);
  }
  torch::NoGradGuard no_grad;
  const bool was_training = model.is_training();
  model.eval();
  const torch::Device device = model.parameters().empty() ? torch::Device(torch::kCPU) : model.parameters()[0].device();
  data::Batch input;
  input.inputs = torch::tensor(flat, torch::kLong).view({batch, longest}).to(device);
  // log p(token t | tokens < t) sits at logits position t - 1: (B, T-1, V) against tokens 1..T-1.
  const torch::Tensor log_probs = torch::log_softmax(model.forward(input).to(torch::kFloat64), -1).narrow(1, 0, longest - 1);
  const torch::Tensor picked =
      log_probs.gather(2, input.inputs.narrow(1, 1, longest - 1).unsqueeze(-1)).squeeze(-1).cpu().contiguous();
  model.train(was_training);
  const double* values = picked.data_ptr<double>();
  for (int64_t b = 0; b < batch; ++b) {
    const auto& row = rows[static_cast<size_t>(b)];
    EndingScore& s = scores[static_cast<size_t>(b)];
    for (int64_t t = first[static_cast<size_t>(b)]; t < static_cast<int64_t>(row.size()); ++t) {
      s.sum += values[b * (longest - 1) + t - 1];
      ++s.tokens;
    }
  }
  return scores;
}

}  // namespace stratum::models
