#include "distributed/world.h"

#include <cerrno>
#include <cstdlib>

#include "core/error.h"

extern char** environ;

namespace stratum::distributed {
namespace {

int parse_int(const std::map<std::string, std::string>& env, const std::string& name, int min_value) {
  const auto it = env.find(name);
  if (it == env.end()) throw UserError("environment: " + name + " is not set (needed for a multi-process run)");
  errno = 0;
  char* end = nullptr;
  const long v = std::strtol(it->second.c_str(), &end, 10);
  if (it->second.empty() || *end != '\0' || errno != 0 || v < min_value || v > 1 << 20) {
    throw UserError("environment: " + name + "=\"" + it->second + "\" is not an integer >= " +
                    std::to_string(min_value));
  }
  return static_cast<int>(v);
}

std::string get(const std::map<std::string, std::string>& env, const std::string& name, const std::string& fallback) {
  const auto it = env.find(name);
  return it == env.end() || it->second.empty() ? fallback : it->second;
}

}  // namespace

std::string first_slurm_host(const std::string& nodelist) {
  const auto bracket = nodelist.find('[');
  const auto comma = nodelist.find(',');
  if (bracket == std::string::npos || (comma != std::string::npos && comma < bracket)) {
    return nodelist.substr(0, comma);
  }
  const std::string prefix = nodelist.substr(0, bracket);
  const auto end = nodelist.find_first_of(",-]", bracket + 1);
  return prefix + nodelist.substr(bracket + 1, end - bracket - 1);
}

WorldInfo world_from_environment(const std::map<std::string, std::string>& env) {
  WorldInfo w;
  if (env.count("RANK") || env.count("WORLD_SIZE")) {
    w.launcher = "torchrun";
    w.world_size = parse_int(env, "WORLD_SIZE", 1);
    w.rank = parse_int(env, "RANK", 0);
    w.local_rank = env.count("LOCAL_RANK") ? parse_int(env, "LOCAL_RANK", 0) : w.rank;
    w.local_world_size = env.count("LOCAL_WORLD_SIZE") ? parse_int(env, "LOCAL_WORLD_SIZE", 1) : w.world_size;
    if (w.world_size > 1) {
      w.master_addr = get(env, "MASTER_ADDR", "");
      if (w.master_addr.empty()) throw UserError("environment: MASTER_ADDR is not set (needed for a multi-process run)");
      w.master_port = parse_int(env, "MASTER_PORT", 1);
    }
  } else if (env.count("SLURM_PROCID")) {
    w.launcher = "slurm";
    w.rank = parse_int(env, "SLURM_PROCID", 0);
    w.world_size = parse_int(env, "SLURM_NTASKS", 1);
    w.local_rank = env.count("SLURM_LOCALID") ? parse_int(env, "SLURM_LOCALID", 0) : 0;
    w.local_world_size = env.count("SLURM_NTASKS_PER_NODE") ? parse_int(env, "SLURM_NTASKS_PER_NODE", 1) : 1;
    w.master_addr = get(env, "MASTER_ADDR", first_slurm_host(get(env, "SLURM_NODELIST", "127.0.0.1")));
    w.master_port = env.count("MASTER_PORT") ? parse_int(env, "MASTER_PORT", 1) : 29500;
  }
  const std::string rank_var = w.launcher == "slurm" ? "SLURM_PROCID" : "RANK";
  const std::string world_var = w.launcher == "slurm" ? "SLURM_NTASKS" : "WORLD_SIZE";
  if (w.rank >= w.world_size) {
    throw UserError("environment: " + rank_var + "=" + std::to_string(w.rank) + " is not below " + world_var + "=" +
                    std::to_string(w.world_size));
  }
  if (w.master_port > 65535) {
    throw UserError("environment: MASTER_PORT=" + std::to_string(w.master_port) + " is not a TCP port");
  }
  return w;
}

std::map<std::string, std::string> process_environment() {
  std::map<std::string, std::string> env;
  for (char** e = environ; e && *e; ++e) {
    const std::string entry = *e;
    const auto eq = entry.find('=');
    if (eq != std::string::npos) env[entry.substr(0, eq)] = entry.substr(eq + 1);
  }
  return env;
}

}  // namespace stratum::distributed
