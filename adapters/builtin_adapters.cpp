#include "adapters/builtin_adapters.h"

#include "adapters/lora.h"
#include "adapters/prefix.h"
#include "adapters/quant/quantize_model.h"
#include "core/error.h"
#include "models/model_facts.h"
#include "core/text.h"
#include "models/transformer_block.h"

namespace stratum::adapters {
namespace {

std::string trainable_summary(const models::Model& model) {
  const models::ModelFacts facts = models::model_facts(model);  // packed (quantized) weights count as parameters
  return std::to_string(facts.trainable_parameters) + " trainable of " + std::to_string(facts.parameters) + " parameters";
}

}  // namespace

void register_builtin_adapters(TransformRegistry& registry) {
  // Order: quantize the frozen base first (10), then LoRA on top of it (20), then prefixes
  // (30), then choose the blocks that recompute activations (90).
  TransformEntry quantization;
  quantization.name = "quantization";
  quantization.description = "pack the frozen weights of the layers quantization.targets names into int8, nf4 or int4";
  quantization.order = 10;
  quantization.enabled = [](const TransformOptions& options) { return options.quantization.mode != QuantMode::none; };
  quantization.apply = [](models::Model& model, const TransformOptions& options) {
    const QuantizationOptions& s = options.quantization;
    const quant::QuantizationSummary summary =
        quant::quantize_linear_layers(model, s, options.locate("quantization.targets"));
    std::string format = choice_name(s.mode);
    if (s.mode != QuantMode::int8) {
      format += " (blocks of " + std::to_string(quant::block_size(s)) +
                (s.double_quant ? ", double-quantized scales)" : ")");
    }
    char ratio[32];
    std::snprintf(ratio, sizeof ratio, "%.4f", summary.bytes_per_weight());
    return format + " on " + std::to_string(summary.layers) + " layers: " + std::to_string(summary.weights) +
           " weights in " + format_bytes(static_cast<double>(summary.bytes)) + ", " + ratio +
           " bytes per weight (float32: " + format_bytes(4.0 * static_cast<double>(summary.weights)) + ")";
  };
  registry.add(std::move(quantization));

  TransformEntry lora;
  lora.name = "lora";
  lora.description = "low-rank adapters on the layers adapters.lora.targets names; the base is frozen";
  lora.order = 20;
  lora.enabled = [](const TransformOptions& options) { return options.adapters.lora.enabled; };
  lora.apply = [](models::Model& model, const TransformOptions& options) {
    const LoraOptions& s = options.adapters.lora;
    const std::vector<std::string> wrapped =
        apply_lora(model, s, options.locate("adapters.lora.targets"));
    return "rank " + std::to_string(s.rank) + ", alpha " + format_number(s.alpha) + " on " +
           std::to_string(wrapped.size()) + " layers; " + trainable_summary(model);
  };
  lora.save_artifact = [](const models::Model& model, const std::string& dir) { save_lora(model, dir + "/lora.safetensors"); };
  registry.add(std::move(lora));

  TransformEntry prefix;
  prefix.name = "prefix";
  prefix.description = "learned key/value prefixes in every attention layer (adapters.prefix); the base is frozen";
  prefix.order = 30;
  prefix.enabled = [](const TransformOptions& options) { return options.adapters.prefix.enabled; };
  prefix.apply = [](models::Model& model, const TransformOptions& options) {
    const PrefixOptions& s = options.adapters.prefix;
    const PrefixEncoder encoder =
        apply_prefix(model, s, options.locate("adapters.prefix.enabled"));
    return std::to_string(s.length) + " positions in " + std::to_string(encoder->layers()) + " layers" +
           (s.reparameterize ? " through a " + std::to_string(s.hidden) + "-wide MLP" : std::string()) + "; " +
           trainable_summary(model);
  };
  prefix.save_artifact = [](const models::Model& model, const std::string& dir) {
    save_prefix(model, dir + "/prefix.safetensors");  // folded: what inference needs
  };
  registry.add(std::move(prefix));

  // Last: it only decides which blocks recompute their activations, whatever their layers hold.
  TransformEntry recompute;
  recompute.name = "gradient-checkpointing";
  recompute.description = "recompute transformer blocks' activations in the backward pass (trainer.gradient_checkpointing)";
  recompute.order = 90;
  recompute.enabled = [](const TransformOptions& options) { return options.recompute.enabled; };
  recompute.apply = [](models::Model& model, const TransformOptions& options) {
    const int64_t every = options.recompute.every;
    int64_t index = 0, chosen = 0;
    for (const auto& module : model.modules(/*include_self=*/false)) {
      if (auto* block = dynamic_cast<models::TransformerBlock*>(module.get())) {
        block->recompute = index++ % every == 0;
        chosen += block->recompute;
      }
    }
    if (index == 0) {
      throw UserError("trainer.gradient_checkpointing: model " + options.model_name +
                      " has no transformer blocks to recompute");
    }
    return "recomputing " + std::to_string(chosen) + " of " + std::to_string(index) + " blocks in backward";
  };
  registry.add(std::move(recompute));
}

}  // namespace stratum::adapters
