#include "engine/plugin_loader.h"

#include <dlfcn.h>
#include <sys/stat.h>

#include <filesystem>
#include <set>

#include "core/error.h"
#include "core/log.h"
#include "engine/plugin.h"
#include "core/torch_compat.h"

namespace stratum {
namespace {

std::string dl_error() {
  const char* message = dlerror();
  return message ? message : "unknown dynamic-loader error";
}

}  // namespace

std::string load_plugin(const std::string& path, Registry& registry) {
  struct stat info {};
  if (stat(path.c_str(), &info) != 0 || !S_ISREG(info.st_mode)) throw UserError("plugin " + path + ": no such file");
  // Loading runs the library's code as this user: like ssh with key files, refuse code that
  // anyone on the machine could have replaced.
  if (info.st_mode & S_IWOTH) {
    throw UserError("plugin " + path + ": refusing to load a world-writable file (anyone could replace its code); "
                    "chmod o-w " + path);
  }
  const std::string folder = std::filesystem::path(path).parent_path().empty()
                                 ? std::string(".")
                                 : std::filesystem::path(path).parent_path().string();
  struct stat folder_info {};
  if (stat(folder.c_str(), &folder_info) == 0 && (folder_info.st_mode & S_IWOTH) && !(folder_info.st_mode & S_ISVTX)) {
    throw UserError("plugin " + path + ": refusing to load from " + folder +
                    ", a world-writable folder without the sticky bit (anyone could swap the file); chmod o-w " + folder);
  }
  // A path without a slash would make dlopen search the library path instead of this file.
  const std::string file = path.find('/') == std::string::npos ? "./" + path : path;
  dlerror();
  // Loaded for the life of the process: its code backs the models it registers.
  void* handle = dlopen(file.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle) throw UserError("plugin " + path + ": cannot load: " + dl_error());
  using AbiFunction = const StratumPluginInfo* (*)();
  using RegisterFunction = void (*)(Registry&);
  auto abi = reinterpret_cast<AbiFunction>(dlsym(handle, "stratum_plugin_abi"));
  if (!abi) throw UserError("plugin " + path + ": not a Stratum plugin (" + dl_error() + ")");
  auto register_entries = reinterpret_cast<RegisterFunction>(dlsym(handle, "stratum_register"));
  if (!register_entries) throw UserError("plugin " + path + ": not a Stratum plugin (" + dl_error() + ")");

  const StratumPluginInfo* built = abi();
  if (!built || built->abi_version != STRATUM_PLUGIN_ABI_VERSION) {
    throw UserError("plugin " + path + ": built for plugin ABI " + std::to_string(built ? built->abi_version : -1) +
                    ", but this stratum has ABI " + std::to_string(STRATUM_PLUGIN_ABI_VERSION) +
                    "; rebuild the plugin against this Stratum");
  }
  const std::string plugin_torch = std::to_string(built->torch_major) + "." + std::to_string(built->torch_minor);
  const std::string ours = compat::torch_version();
  if (ours.rfind(plugin_torch + ".", 0) != 0) {
    throw UserError("plugin " + path + ": built against LibTorch " + plugin_torch + ", but this stratum uses LibTorch " +
                    ours + "; rebuild the plugin against the same LibTorch");
  }
  const std::string name = built->name ? built->name : path;
  register_entries(registry);
  log::info("plugin " + name + " loaded from " + path);
  return name;
}

void load_plugins(const std::vector<std::string>& from_config, const std::vector<std::string>& from_flags,
                  Registry& registry) {
  std::set<std::string> loaded;
  for (const auto* paths : {&from_config, &from_flags}) {
    for (const std::string& path : *paths) {
      if (loaded.insert(path).second) load_plugin(path, registry);
    }
  }
}

}  // namespace stratum
