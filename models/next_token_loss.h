#pragma once
// The language-modeling task: next-token cross-entropy over real (non-padding) tokens.

#include <torch/types.h>

#include <cstdint>

#include "core/batch.h"

namespace stratum {
namespace models {
class TensorParallelOps;
}

/// Summed next-token cross-entropy and how many predictions it covers: logits (B, T, V) at
/// position t are scored against tokens[t + 1], for tokens (B, T) or (B, T + 1) (see
/// next_token_sequence); targets equal to `pad_token` or below zero are skipped.
struct TokenLoss {
  torch::Tensor sum;      ///< scalar, float32
  torch::Tensor count;    ///< scalar, int64: predictions scored
  torch::Tensor correct;  ///< scalar, int64: predictions whose argmax is the next token
};

/// The tokens a language-model batch's logits are scored against, as one sequence for the
/// functions below: the inputs (each position predicts the next input), or for token windows
/// (targets shaped like the inputs) the inputs' first token followed by the targets.
torch::Tensor next_token_sequence(const data::Batch& batch);

/// How many next-token predictions of `tokens` (B, T) count (targets other than `pad_token`).
torch::Tensor scored_tokens(const torch::Tensor& tokens, int64_t pad_token);

/// The loss terms of one batch (`pad_token` < 0: every position counts).
TokenLoss next_token_loss_terms(const torch::Tensor& logits, const torch::Tensor& tokens, int64_t pad_token);

/// The loss terms per sequence of a batch (B each: summed loss as float32, predictions scored,
/// argmax hits), for metrics by group of sequences.
TokenLoss next_token_loss_per_sequence(const torch::Tensor& logits, const torch::Tensor& tokens, int64_t pad_token);

/// Mean next-token cross-entropy of one batch: what the trainer minimises.
torch::Tensor next_token_loss(const torch::Tensor& logits, const torch::Tensor& tokens, int64_t pad_token);

/// The same loss from logits split over a tensor-parallel group by vocabulary: this rank holds
/// (B, T, V_r) for token ids [vocab_start, vocab_start + V_r). No rank ever holds a whole
/// vocabulary row: the softmax normaliser and the target logit are summed over the group
/// (Megatron-LM's vocabulary-parallel cross-entropy). Equal on every rank of the group.
torch::Tensor vocab_parallel_next_token_loss(const torch::Tensor& logits, const torch::Tensor& tokens, int64_t pad_token,
                                             int64_t vocab_start, models::TensorParallelOps& group);

}  // namespace stratum
