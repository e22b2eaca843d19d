#include "engine/registry.h"

#include <algorithm>
#include <vector>

#include "core/log.h"
#include "engine/config.h"

namespace stratum {

models::ModelPtr build_model(const Registry& registry, const models::ModelOptions& options, const data::DataSpec& spec) {
  return models::build_model(registry.models, options, spec);
}

adapters::TransformOptions transform_options(const RunConfig& config) {
  adapters::TransformOptions options;
  options.adapters = config.adapters;
  options.quantization = config.quantization;
  options.recompute = {config.trainer.gradient_checkpointing, config.trainer.gradient_checkpointing_every};
  options.model_name = config.model.name;
  // Where `key` was set, for error messages ("file.yaml:12: key"), like every other config error.
  options.locate = [sources = config.sources](const std::string& key) {
    return (sources ? sources->locate(key) + ": " : std::string()) + key;
  };
  return options;
}

namespace {

std::vector<const adapters::TransformEntry*> enabled_transforms(const Registry& registry,
                                                                const adapters::TransformOptions& options) {
  std::vector<const adapters::TransformEntry*> out;
  for (const std::string& name : registry.transforms.names()) {
    const adapters::TransformEntry* entry = registry.transforms.find(name);
    if (entry->enabled(options)) out.push_back(entry);
  }
  std::stable_sort(out.begin(), out.end(), [](auto* a, auto* b) { return a->order < b->order; });
  return out;
}

}  // namespace

void apply_model_transforms(const Registry& registry, models::Model& model, const RunConfig& config) {
  const adapters::TransformOptions options = transform_options(config);
  for (const adapters::TransformEntry* entry : enabled_transforms(registry, options)) {
    log::info(entry->name + ": " + entry->apply(model, options));
  }
}

void save_transform_artifacts(const Registry& registry, const models::Model& model, const RunConfig& config,
                              const std::string& dir) {
  for (const adapters::TransformEntry* entry : enabled_transforms(registry, transform_options(config))) {
    if (entry->save_artifact) entry->save_artifact(model, dir);
  }
}

}  // namespace stratum
