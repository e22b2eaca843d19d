#pragma once
// Quantization of a built model's frozen linear weights (the `quantization:` section):
// the chosen layers keep their biases and their adapter slots, their weights are packed
// into int8, nf4 or int4, and the float copies are released.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "adapters/adapter_options.h"

#include "models/adaptable_linear.h"

namespace stratum::adapters::quant {

/// The block size `options` resolve to.
int64_t block_size(const QuantizationOptions& options);

/// Packs one dense (out, in) weight.
std::shared_ptr<models::PackedWeight> quantize_weight(const torch::Tensor& weight, const QuantizationOptions& options);

/// What quantize_linear_layers did.
struct QuantizationSummary {
  int64_t layers = 0;
  int64_t weights = 0;  ///< weights packed
  int64_t bytes = 0;    ///< their storage, scales included
  double bytes_per_weight() const { return weights > 0 ? static_cast<double>(bytes) / static_cast<double>(weights) : 0.0; }
};

/// Packs the weight of every layer a target matches (errors name `key`).
QuantizationSummary quantize_linear_layers(torch::nn::Module& model, const QuantizationOptions& options,
                                           const std::string& key = "quantization.targets");

/// Restores every packed weight as a frozen float32 parameter (for export and merging).
void dequantize_linear_layers(torch::nn::Module& model);

}  // namespace stratum::adapters::quant
