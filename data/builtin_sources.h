#pragma once
// Registration of the data sources that ship with Stratum.

#include "data/source_registry.h"

namespace stratum::data {

/// Adds every built-in data source to `registry` (called once at start-up).
void register_builtin_sources(SourceRegistry& registry);

}  // namespace stratum::data
