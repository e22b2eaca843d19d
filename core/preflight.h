#pragma once
// Checks that need more than the config's own rules (registered names, features this build
// has), run before any data is read, model built or process group created.

#include "core/config.h"

namespace stratum {

class Registry;

/// Throws UserError naming the key, file and line of the first problem found.
void preflight(const RunConfig& config, const Registry& registry);

}  // namespace stratum
