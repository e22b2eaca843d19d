#pragma once
// Registration of the data sources that ship with Stratum.

namespace stratum {
class Registry;
}

namespace stratum::data {

/// Adds every built-in data source to `registry` (called once at start-up).
void register_builtin_sources(Registry& registry);

}  // namespace stratum::data
