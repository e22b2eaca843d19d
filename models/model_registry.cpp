#include "models/model_registry.h"

#include "core/error.h"
#include "core/log.h"
#include "models/reference_weights.h"

namespace stratum::models {

ModelPtr build_model(const ModelRegistry& registry, const ModelOptions& options, const data::DataSpec& spec) {
  const ModelEntry* entry = registry.find(options.name);
  if (!entry) throw UserError("model.name: " + registry.unknown_message(options.name));
  ModelPtr model = entry->build(options, spec);
  if (!options.init_from.empty()) {
    load_reference_weights(*model, options.init_from);
    log::info("model: weights from " + options.init_from);
  }
  return model;
}

}  // namespace stratum::models
