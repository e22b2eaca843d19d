// Subcommands whose features have not landed yet. Each says what it will do, and refuses
// to run with exit code 2 instead of pretending.

#include <cstdio>
#include <map>

#include "core/cli/commands.h"
#include "core/error.h"

namespace stratum::cli {
namespace {

struct PendingSpec {
  const char* usage;
  const char* summary;
};

const std::map<std::string, PendingSpec>& pending_specs() {
  static const std::map<std::string, PendingSpec> specs = {
      {"launch",
       {"stratum launch --nproc-per-node N [--nnodes M --node-rank R --master-addr A --master-port P "
        "--max-restarts K] -- train ...",
        "Start N worker processes with the torchrun environment and supervise them."}},
  };
  return specs;
}

}  // namespace

int pending_command(const std::string& name, const Args& args) {
  const PendingSpec& spec = pending_specs().at(name);
  for (const auto& a : args) {
    if (a == "--help" || a == "-h") {
      std::printf("usage: %s\n\n%s\n\nThis subcommand is not available in this build yet.\n", spec.usage,
                  spec.summary);
      return kExitOk;
    }
  }
  throw UserError("stratum " + name + ": not available in this build yet (see stratum " + name + " --help)");
}

}  // namespace stratum::cli
