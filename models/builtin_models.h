#pragma once
// Registration of the models that ship with Stratum.

#include "models/model_registry.h"

namespace stratum::models {

/// Adds every built-in model to `registry` (called once at start-up).
void register_builtin_models(ModelRegistry& registry);

}  // namespace stratum::models
