#include "adapters/builtin_adapters.h"

#include "adapters/lora.h"
#include "adapters/prefix.h"
#include "adapters/quant/quantize_model.h"
#include "core/registry.h"
#include "core/error.h"
#include "core/evaluator.h"
#include "core/text.h"
#include "models/transformer_block.h"

namespace stratum::adapters {
namespace {

// Where `key` was set, for error messages ("file.yaml:12: key"), like every other config error.
std::string located(const RunConfig& config, const std::string& key) {
  return (config.sources ? config.sources->locate(key) + ": " : std::string()) + key;
}

std::string trainable_summary(const models::Model& model) {
  const ModelFacts facts = model_facts(model);  // packed (quantized) weights count as parameters
  return std::to_string(facts.trainable_parameters) + " trainable of " + std::to_string(facts.parameters) + " parameters";
}

}  // namespace

void register_builtin_adapters(Registry& registry) {
  // Order: quantize the frozen base first (10), then LoRA on top of it (20), then prefixes
  // (30), then choose the blocks that recompute activations (90).
  ModelTransformEntry quantization;
  quantization.name = "quantization";
  quantization.description = "pack the frozen weights of the layers quantization.targets names into int8, nf4 or int4";
  quantization.order = 10;
  quantization.enabled = [](const RunConfig& config) { return config.quantization.mode != "none"; };
  quantization.apply = [](models::Model& model, const RunConfig& config) {
    const QuantizationSection& s = config.quantization;
    const quant::QuantizationOptions options{s.mode, s.block_size, s.double_quant, s.targets};
    const quant::QuantizationSummary summary =
        quant::quantize_linear_layers(model, options, located(config, "quantization.targets"));
    std::string format = s.mode;
    if (s.mode != "int8") {
      format += " (blocks of " + std::to_string(quant::block_size(options)) +
                (s.double_quant ? ", double-quantized scales)" : ")");
    }
    char ratio[32];
    std::snprintf(ratio, sizeof ratio, "%.4f", summary.bytes_per_weight());
    return format + " on " + std::to_string(summary.layers) + " layers: " + std::to_string(summary.weights) +
           " weights in " + format_bytes(static_cast<double>(summary.bytes)) + ", " + ratio +
           " bytes per weight (float32: " + format_bytes(4.0 * static_cast<double>(summary.weights)) + ")";
  };
  registry.transforms.add(std::move(quantization));

  ModelTransformEntry lora;
  lora.name = "lora";
  lora.description = "low-rank adapters on the layers adapters.lora.targets names; the base is frozen";
  lora.order = 20;
  lora.enabled = [](const RunConfig& config) { return config.adapters.lora.enabled; };
  lora.apply = [](models::Model& model, const RunConfig& config) {
    const LoraSection& s = config.adapters.lora;
    const std::vector<std::string> wrapped =
        apply_lora(model, {s.rank, s.alpha, s.dropout, s.targets}, located(config, "adapters.lora.targets"));
    return "rank " + std::to_string(s.rank) + ", alpha " + format_number(s.alpha) + " on " +
           std::to_string(wrapped.size()) + " layers; " + trainable_summary(model);
  };
  lora.save_artifact = [](const models::Model& model, const std::string& dir) { save_lora(model, dir + "/lora.safetensors"); };
  registry.transforms.add(std::move(lora));

  ModelTransformEntry prefix;
  prefix.name = "prefix";
  prefix.description = "learned key/value prefixes in every attention layer (adapters.prefix); the base is frozen";
  prefix.order = 30;
  prefix.enabled = [](const RunConfig& config) { return config.adapters.prefix.enabled; };
  prefix.apply = [](models::Model& model, const RunConfig& config) {
    const PrefixSection& s = config.adapters.prefix;
    const PrefixEncoder encoder =
        apply_prefix(model, {s.length, s.reparameterize, s.hidden}, located(config, "adapters.prefix.enabled"));
    return std::to_string(s.length) + " positions in " + std::to_string(encoder->layers()) + " layers" +
           (s.reparameterize ? " through a " + std::to_string(s.hidden) + "-wide MLP" : std::string()) + "; " +
           trainable_summary(model);
  };
  prefix.save_artifact = [](const models::Model& model, const std::string& dir) {
    save_prefix(model, dir + "/prefix.safetensors");  // folded: what inference needs
  };
  registry.transforms.add(std::move(prefix));

  // Last: it only decides which blocks recompute their activations, whatever their layers hold.
  ModelTransformEntry recompute;
  recompute.name = "gradient-checkpointing";
  recompute.description = "recompute transformer blocks' activations in the backward pass (trainer.gradient_checkpointing)";
  recompute.order = 90;
  recompute.enabled = [](const RunConfig& config) { return config.trainer.gradient_checkpointing; };
  recompute.apply = [](models::Model& model, const RunConfig& config) {
    const int64_t every = config.trainer.gradient_checkpointing_every;
    int64_t index = 0, chosen = 0;
    for (const auto& module : model.modules(/*include_self=*/false)) {
      if (auto* block = dynamic_cast<models::TransformerBlock*>(module.get())) {
        block->recompute = index++ % every == 0;
        chosen += block->recompute;
      }
    }
    if (index == 0) {
      throw UserError("trainer.gradient_checkpointing: model " + config.model.name +
                      " has no transformer blocks to recompute");
    }
    return "recomputing " + std::to_string(chosen) + " of " + std::to_string(index) + " blocks in backward";
  };
  registry.transforms.add(std::move(recompute));
}

}  // namespace stratum::adapters
