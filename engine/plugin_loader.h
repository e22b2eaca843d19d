#pragma once
// Loading plugins (shared libraries that register models and data sources) into a Registry.

#include <string>
#include <vector>

namespace stratum {

class Registry;

/// dlopen()s `path`, checks that it was built for this Stratum's plugin ABI and LibTorch
/// version, and lets it register its entries. Returns the plugin's name. A missing file, a
/// library that cannot be loaded, a missing symbol or a version mismatch is a UserError
/// naming the path (with dlerror()'s text where the dynamic loader gave one).
std::string load_plugin(const std::string& path, Registry& registry);

/// Loads the config's `plugins:` and then the `--plugin` flags' paths, each path once.
void load_plugins(const std::vector<std::string>& from_config, const std::vector<std::string>& from_flags,
                  Registry& registry);

}  // namespace stratum
