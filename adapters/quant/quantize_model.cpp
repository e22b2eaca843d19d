#include "adapters/quant/quantize_model.h"

#include <torch/torch.h>

#include "adapters/layer_selection.h"
#include "adapters/quant/blockwise_weight.h"
#include "adapters/quant/int8_weight.h"
#include "core/error.h"

namespace stratum::adapters::quant {

int64_t block_size(const QuantizationOptions& options) {
  if (options.block_size > 0) return options.block_size;
  return options.mode == QuantMode::int4 ? 128 : 64;
}

std::shared_ptr<models::PackedWeight> quantize_weight(const torch::Tensor& weight, const QuantizationOptions& options) {
  if (options.mode == QuantMode::int8) return std::make_shared<Int8Weight>(weight);
  if (options.mode == QuantMode::nf4 || options.mode == QuantMode::int4) {
    return std::make_shared<BlockwiseWeight>(weight, choice_name(options.mode), block_size(options), options.double_quant);
  }
  throw UserError("quantization.mode: unknown format \"" + std::string(choice_name(options.mode)) + "\" (int8, nf4, int4)");
}

QuantizationSummary quantize_linear_layers(torch::nn::Module& model, const QuantizationOptions& options,
                                           const std::string& key) {
  QuantizationSummary summary;
  for (const auto& [name, layer] : select_layers(model, options.targets, key)) {
    if (layer->packed_weight()) continue;
    std::shared_ptr<models::PackedWeight> packed = quantize_weight(layer->weight.detach(), options);
    packed->to(layer->weight.device());
    layer->pack_weight(packed);
    ++summary.layers;
    summary.weights += packed->numel();
    summary.bytes += packed->bytes();
  }
  return summary;
}

void dequantize_linear_layers(torch::nn::Module& model) {
  for (const auto& [name, layer] : adaptable_layers(model)) layer->unpack_weight();
}

}  // namespace stratum::adapters::quant
