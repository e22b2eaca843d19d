#pragma once
// Registration of the models that ship with Stratum.

namespace stratum {
class Registry;
}

namespace stratum::models {

/// Adds every built-in model to `registry` (called once at start-up).
void register_builtin_models(Registry& registry);

}  // namespace stratum::models
