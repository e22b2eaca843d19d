#pragma once
// Prefix-tuning (Li & Liang, 2021): every attention layer attends to `length` learned
// key/value positions in front of the sequence while the base model stays frozen. During
// training the prefixes are the output of a small MLP over a learned embedding (the
// reparameterization that stabilises training); folding replaces the MLP by its output,
// which is all inference needs. Works for every model built from models/attention.

#include <cstdint>
#include <string>

#include "adapters/adapter_options.h"

#include "models/attention.h"

namespace stratum::adapters {

/// Every layer's prefixes, (length, layers · 2 · width): for layer l, columns
/// [2lW, (2l+1)W) are its keys and the next W its values (PEFT's past_key_values layout).
class PrefixEncoderImpl : public models::AdapterModule {
 public:
  PrefixEncoderImpl(int64_t layers, int64_t width, const PrefixOptions& options);

  /// (length, 2 · width): keys then values of layer `layer`.
  torch::Tensor layer_prefix(int64_t layer);
  /// (length, layers · 2 · width).
  torch::Tensor all();
  /// Replaces the MLP by the prefixes it computes now (a no-op once folded).
  void fold();
  bool folded() const { return !embedding.defined(); }

  int64_t layers() const { return layers_; }
  int64_t width() const { return width_; }

  torch::Tensor embedding;  ///< (length, width), with the MLP
  torch::nn::Linear down{nullptr}, up{nullptr};
  torch::Tensor table;      ///< (length, layers · 2 · width), without it

 private:
  int64_t layers_, width_;
};
TORCH_MODULE(PrefixEncoder);

/// Attaches prefixes to every attention layer of `model` (the encoder is registered on the
/// model as "prefix_encoder") and freezes the base. Returns the encoder. A model without
/// attention layers is a UserError starting with `key`.
PrefixEncoder apply_prefix(torch::nn::Module& model, const PrefixOptions& options,
                           const std::string& key = "adapters.prefix.enabled");

/// The model's prefix encoder, or nullptr.
PrefixEncoder find_prefix(const torch::nn::Module& model);

/// Writes the folded prefixes (safetensors tensor "prefix", (length, layers · 2 · width));
/// the model itself is left as it is.
void save_prefix(const torch::nn::Module& model, const std::string& path);
/// Loads folded prefixes into a model prefixed with the same shape (folding it first).
void load_prefix(torch::nn::Module& model, const std::string& path);

}  // namespace stratum::adapters
