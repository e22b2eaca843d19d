// A plugin that reports the wrong build facts (compiled twice: -DWRONG_ABI, -DWRONG_TORCH),
// so tests can check that the loader refuses it before calling into it.

#include "engine/plugin.h"

extern "C" const StratumPluginInfo* stratum_plugin_abi() {
#ifdef WRONG_ABI
  static const StratumPluginInfo info{STRATUM_PLUGIN_ABI_VERSION + 97, TORCH_VERSION_MAJOR, TORCH_VERSION_MINOR, "bad"};
#else
  static const StratumPluginInfo info{STRATUM_PLUGIN_ABI_VERSION, TORCH_VERSION_MAJOR + 7, 0, "bad"};
#endif
  return &info;
}

extern "C" void stratum_register(stratum::Registry&) {}
