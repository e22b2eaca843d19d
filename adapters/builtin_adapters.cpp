#include "adapters/builtin_adapters.h"

#include "adapters/lora.h"
#include "core/registry.h"
#include "core/error.h"
#include "core/text.h"
#include "models/transformer_block.h"

namespace stratum::adapters {

void register_builtin_adapters(Registry& registry) {
  // Order: quantize the frozen base first (10, to come), then LoRA on top of it (20), then
  // prefixes (30, to come).
  ModelTransformEntry lora;
  lora.name = "lora";
  lora.description = "low-rank adapters on the layers adapters.lora.targets names; the base is frozen";
  lora.order = 20;
  lora.enabled = [](const RunConfig& config) { return config.adapters.lora.enabled; };
  lora.apply = [](models::Model& model, const RunConfig& config) {
    const LoraSection& s = config.adapters.lora;
    // Errors name where the targets were set, like every other config error.
    const std::string key = (config.sources ? config.sources->locate("adapters.lora.targets") + ": " : std::string()) +
                            "adapters.lora.targets";
    const std::vector<std::string> wrapped = apply_lora(model, {s.rank, s.alpha, s.dropout, s.targets}, key);
    int64_t trainable = 0, total = 0;
    for (const auto& p : model.parameters()) {
      total += p.numel();
      if (p.requires_grad()) trainable += p.numel();
    }
    return "rank " + std::to_string(s.rank) + ", alpha " + format_number(s.alpha) + " on " +
           std::to_string(wrapped.size()) + " layers; " + std::to_string(trainable) + " trainable of " +
           std::to_string(total) + " parameters";
  };
  lora.save_artifact = [](const models::Model& model, const std::string& dir) { save_lora(model, dir + "/lora.safetensors"); };
  registry.transforms.add(std::move(lora));

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
