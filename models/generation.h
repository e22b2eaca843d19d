#pragma once
// Text generation from a Decoder: batched prompts of different lengths (left-padded, positions
// counted from each prompt's first token), greedy or sampled (temperature, top-k, top-p) from a
// seeded stream of its own, with or without the key/value cache.

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace stratum::models {

class Model;

/// How `generate` chooses tokens and when it stops.
struct GenerationOptions {
  int64_t max_new_tokens = 64;
  double temperature = 0;  ///< 0: greedy (the most likely token); else logits / temperature are sampled
  int64_t top_k = 0;       ///< sample among the k most likely tokens only (0: all)
  double top_p = 1;        ///< sample among the fewest most likely tokens whose probabilities reach p (1: all)
  uint64_t seed = 0;       ///< the sampling stream's seed (greedy draws nothing)
  int64_t end_token = -1;  ///< a token that ends a sequence (it is kept in the output); -1: none
  int64_t pad_token = 0;   ///< fills left padding (never attended to; any valid id)
  bool use_cache = true;   ///< false: every step runs the whole sequence again (for checks and benchmarks)
};

/// One prompt's continuation and why it ended: "length" (max_new_tokens), "end" (end_token),
/// "stop" (the caller's on_token said so) or "context" (the model's positions ran out).
struct Generation {
  std::vector<int64_t> tokens;
  std::string finish;
};

/// Called with (prompt index, token) as each new token is chosen; returning true ends that prompt.
using TokenCallback = std::function<bool(size_t prompt, int64_t token)>;

/// Continues each of `prompts` (token ids, none empty, each shorter than the model's context)
/// in one batch. `model` must have a decoder(); it is put in evaluation mode, without gradients.
std::vector<Generation> generate(Model& model, const std::vector<std::vector<int64_t>>& prompts,
                                 const GenerationOptions& options, const TokenCallback& on_token = {});

/// The token `options` choose from one row of logits (V): the first maximum when greedy, else a
/// draw from the tempered, top-k and top-p filtered distribution with `uniform` in [0, 1).
int64_t choose_token(const std::vector<double>& logits, const GenerationOptions& options, double uniform);

}  // namespace stratum::models
