#pragma once
// Step-by-step decoding for `stratum generate`: a language model that implements Decoder
// computes the logits of new tokens from a key/value cache of the positions it has seen,
// instead of running the whole sequence again for every token.

#include <torch/types.h>

#include <cstdint>
#include <vector>

namespace stratum::models {

/// Keys and values of every position a decoder has seen, per attention layer.
struct KeyValueCache {
  struct Layer {
    torch::Tensor keys, values;  ///< (B, H, S, D) each; undefined before the first step
  };
  std::vector<Layer> layers;

  /// Positions held (S): 0 before the first step.
  int64_t length() const { return layers.empty() || !layers[0].keys.defined() ? 0 : layers[0].keys.size(2); }
};

/// A causal language model that decodes with a key/value cache.
class Decoder {
 public:
  virtual ~Decoder() = default;

  /// The positions the model was built for; `tokens` never sit at a position beyond it.
  virtual int64_t context() const = 0;

  /// Logits (B, T, V) for `tokens` (B, T) at `positions` (B, T), each attending to the cached
  /// positions and causally to the new ones, only where `key_keep` (B, S + T, boolean) is true
  /// (false marks left padding; a token always sees itself). Appends the new tokens' keys and
  /// values to `cache`. Evaluation mode: no dropout.
  virtual torch::Tensor forward_cached(const torch::Tensor& tokens, const torch::Tensor& positions,
                                       const torch::Tensor& key_keep, KeyValueCache& cache) = 0;
};

}  // namespace stratum::models
