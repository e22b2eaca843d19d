#include "models/next_token_loss.h"

#include <torch/torch.h>

#include "models/tensor_parallel_ops.h"

namespace stratum {

namespace {

torch::Tensor real_targets(const torch::Tensor& targets, int64_t pad_token) {
  return pad_token >= 0 ? targets.ne(pad_token).logical_and(targets.ge(0)) : targets.ge(0);
}

// The predictions (B·T', V) that have a next token in `tokens` (B, T' + 1).
torch::Tensor scored_logits(const torch::Tensor& logits, const torch::Tensor& tokens) {
  return logits.narrow(1, 0, tokens.size(1) - 1).reshape({-1, logits.size(-1)}).to(torch::kFloat32);
}

}  // namespace

torch::Tensor next_token_sequence(const data::Batch& batch) {
  if (!batch.targets.defined() || batch.targets.sizes() != batch.inputs.sizes()) return batch.inputs;
  return torch::cat({batch.inputs.narrow(1, 0, 1), batch.targets}, 1);
}

torch::Tensor scored_tokens(const torch::Tensor& tokens, int64_t pad_token) {
  return real_targets(tokens.narrow(1, 1, tokens.size(1) - 1), pad_token).sum();
}

TokenLoss next_token_loss_terms(const torch::Tensor& logits, const torch::Tensor& tokens, int64_t pad_token) {
  const torch::Tensor predictions = scored_logits(logits, tokens);
  torch::Tensor targets = tokens.narrow(1, 1, tokens.size(1) - 1).reshape({-1});
  const torch::Tensor real = real_targets(targets, pad_token);
  // ignore_index drops unscored targets from the sum without a host round trip; it names one
  // id, so windows' -100 targets take the padding id's place where there is one.
  if (pad_token >= 0) targets = targets.masked_fill(targets.lt(0), pad_token);
  const torch::Tensor sum = torch::nn::functional::cross_entropy(
      predictions, targets,
      torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kSum).ignore_index(pad_token >= 0 ? pad_token : -100));
  const torch::Tensor correct = predictions.argmax(1).eq(targets).logical_and(real).sum();
  return {sum, real.sum(), correct};
}

TokenLoss next_token_loss_per_sequence(const torch::Tensor& logits, const torch::Tensor& tokens, int64_t pad_token) {
  const int64_t rows = tokens.size(0), scored = tokens.size(1) - 1;
  const torch::Tensor predictions = scored_logits(logits, tokens);
  torch::Tensor targets = tokens.narrow(1, 1, tokens.size(1) - 1).reshape({-1});
  const torch::Tensor real = real_targets(targets, pad_token);
  // Unscored targets point at class 0 and are masked out of the sums.
  const torch::Tensor safe = targets.masked_fill(real.logical_not(), 0);
  const torch::Tensor per_token = torch::nn::functional::cross_entropy(
      predictions, safe, torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kNone));
  const torch::Tensor mask = real.to(per_token.scalar_type());
  const torch::Tensor hits = predictions.argmax(1).eq(safe).logical_and(real);
  return {(per_token * mask).reshape({rows, scored}).sum(1), real.reshape({rows, scored}).sum(1),
          hits.reshape({rows, scored}).sum(1)};
}

torch::Tensor next_token_loss(const torch::Tensor& logits, const torch::Tensor& tokens, int64_t pad_token) {
  const TokenLoss terms = next_token_loss_terms(logits, tokens, pad_token);
  return terms.sum / terms.count.clamp_min(1).to(terms.sum.scalar_type());
}

torch::Tensor vocab_parallel_next_token_loss(const torch::Tensor& logits, const torch::Tensor& tokens, int64_t pad_token,
                                             int64_t vocab_start, models::TensorParallelOps& group) {
  const int64_t slice = logits.size(-1);
  const torch::Tensor predictions = scored_logits(logits, tokens);
  const torch::Tensor targets = tokens.narrow(1, 1, tokens.size(1) - 1).reshape({-1});
  const torch::Tensor real = real_targets(targets, pad_token);
  // log Σ_v exp(z_v) - z_target with z shifted by the row's maximum over the whole vocabulary
  // (a constant: it cancels, and only keeps exp in range).
  const torch::Tensor shifted = predictions - group.max_over_group(std::get<0>(predictions.detach().max(1))).unsqueeze(1);
  const torch::Tensor normaliser = group.reduce_from_group(shifted.exp().sum(1));
  const torch::Tensor local = targets - vocab_start;
  const torch::Tensor mine = local.ge(0).logical_and(local.lt(slice));
  const torch::Tensor picked = shifted.gather(1, local.clamp(0, slice - 1).unsqueeze(1)).squeeze(1);
  const torch::Tensor target_logit = group.reduce_from_group(picked * mine.to(picked.scalar_type()));
  const torch::Tensor per_token = normaliser.log() - target_logit;
  return (per_token * real.to(per_token.scalar_type())).sum() / real.sum().clamp_min(1).to(torch::kFloat32);
}

}  // namespace stratum
