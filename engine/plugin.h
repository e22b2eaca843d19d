#pragma once
// What a plugin includes: the two functions a Stratum plugin exports, and a macro that
// defines the first. A plugin is a shared library built against the same Stratum and
// LibTorch as the `stratum` binary that loads it (`--plugin path.so` or `plugins:` in YAML);
// Stratum's own symbols come from that binary at load time. See examples/plugin/.
//
//   STRATUM_PLUGIN("my-models")
//   extern "C" void stratum_register(stratum::Registry& registry) { registry.models.add(...); }

#include <torch/version.h>

#include "engine/registry.h"

/// Bumped whenever Registry, the entry types or the Model interface change incompatibly.
#define STRATUM_PLUGIN_ABI_VERSION 4

/// How a plugin was built, so the loader can refuse one built for another Stratum or LibTorch.
struct StratumPluginInfo {
  int abi_version;
  int torch_major;
  int torch_minor;
  const char* name;
};

extern "C" {
/// Returns the plugin's build facts; must not touch anything else.
const StratumPluginInfo* stratum_plugin_abi();
/// Adds the plugin's models and data sources to `registry`.
void stratum_register(stratum::Registry& registry);
}

/// Defines stratum_plugin_abi() for the plugin being compiled.
#define STRATUM_PLUGIN(plugin_name)                                                                \
  extern "C" const StratumPluginInfo* stratum_plugin_abi() {                                       \
    static const StratumPluginInfo info{STRATUM_PLUGIN_ABI_VERSION, TORCH_VERSION_MAJOR,           \
                                        TORCH_VERSION_MINOR, plugin_name};                         \
    return &info;                                                                                  \
  }
