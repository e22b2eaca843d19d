#include "engine/memory_plan.h"

#include "engine/registry.h"
#include "core/data_spec.h"
#include "core/text.h"

namespace stratum {
namespace {

// Bytes per parameter while training: fp32 weights and gradients, and the optimizer's state
// (AdamW: two moments; SGD: one momentum buffer). Adapters freeze the base, which then holds
// only its weights (quantized ones fewer).
double bytes_per_parameter(const RunConfig& config) {
  double weight = 4;
  if (config.quantization.mode == adapters::QuantMode::int8) weight = 1;
  if (config.quantization.mode == adapters::QuantMode::nf4 || config.quantization.mode == adapters::QuantMode::int4) weight = 0.6;
  if (config.adapters.lora.enabled || config.adapters.prefix.enabled) return weight;
  const double state = config.trainer.optimizer == OptimizerKind::adamw ? 8 : config.trainer.momentum > 0 ? 4 : 0;
  return weight + 4 + state;
}

// The model key a user most likely set to make the model this large.
std::string size_key(const RunConfig& config) {
  const models::ModelOptions& m = config.model;
  const std::pair<const char*, bool> keys[] = {
      {"model.width", m.width > 0},           {"model.hidden", m.hidden != models::ModelOptions{}.hidden},
      {"model.mlp_hidden", m.mlp_hidden > 0}, {"model.layers", m.layers > 0},
      {"model.vocab_size", m.vocab_size > 0}, {"model.context", m.context > 0},
      {"model.image_size", m.image_size > 0}, {"model.num_classes", m.num_classes > 0},
      {"model.channels", m.channels != models::ModelOptions{}.channels}};
  for (const auto& [key, set] : keys) {
    if (set) return key;
  }
  return "model.name";
}

}  // namespace

MemoryPlan plan_memory(const RunConfig& config, const Registry& registry, const data::DataSpec& spec) {
  MemoryPlan plan;
  const ModelEntry* entry = registry.models.find(config.model.name);
  if (entry && entry->parameter_count) {
    plan.parameters = entry->parameter_count(config.model, spec);
    plan.model_bytes = static_cast<double>(plan.parameters) * bytes_per_parameter(config);
  }
  double example = 1;
  for (int64_t d : spec.input_shape) example *= static_cast<double>(d);
  example *= spec.kind == data::InputKind::tokens ? 8 : 4;  // int64 ids, float32 values
  plan.batch_bytes = static_cast<double>(config.data.prefetch + 2) * static_cast<double>(config.trainer.batch_size) * example;
  return plan;
}

void check_memory_plan(const RunConfig& config, const MemoryPlan& plan, uint64_t available) {
  if (available == 0) return;
  const auto limit = static_cast<double>(available);
  const std::string have = "this machine has " + format_bytes(limit) + " available";
  if (plan.model_bytes > limit) {
    config.fail(size_key(config), config.model.name + " at these sizes has " +
                                      format_number(static_cast<double>(plan.parameters)) + " parameters; training it needs " +
                                      format_bytes(plan.model_bytes) + " (weights, gradients and optimizer state) but " + have);
  }
  if (plan.total() > limit) {
    config.fail(plan.batch_bytes > plan.model_bytes ? "data.prefetch" : size_key(config),
                "the model (" + format_bytes(plan.model_bytes) + ") and " + std::to_string(config.data.prefetch + 2) +
                    " batches of " + std::to_string(config.trainer.batch_size) + " examples in flight (" +
                    format_bytes(plan.batch_bytes) + ", data.prefetch + 2) need " + format_bytes(plan.total()) + " but " +
                    have + "; lower data.prefetch or trainer.batch_size");
  }
}

}  // namespace stratum
