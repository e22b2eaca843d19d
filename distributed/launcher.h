#pragma once
// `stratum launch`: starts a node's worker processes with the torchrun environment, prefixes
// their output with their rank, forwards SIGINT / SIGTERM, and when one fails stops the others
// and restarts the group from its latest complete checkpoint or gives up naming the rank.

#include <string>
#include <vector>

namespace stratum::distributed {

/// The launcher's flags (torchrun's names).
struct LaunchOptions {
  int nproc_per_node = 1;
  int nnodes = 1;
  int node_rank = 0;
  std::string master_addr = "127.0.0.1";
  int master_port = 29500;
  int max_restarts = 0;
  double stop_timeout_s = 30.0;       ///< after SIGTERM, how long workers get before SIGKILL
  std::vector<std::string> command;   ///< the stratum subcommand each worker runs, e.g. {"train", ...}
  std::vector<std::string> launcher_args;  ///< the launcher's own flags as given (for "resume with:" lines)
};

/// Runs the workers of this node to the end, with restarts; returns the launcher's exit code:
/// 0, the failing worker's code (128 + signal for a killed one), or 128 + the signal that
/// stopped the launcher. `executable` is the stratum binary the workers run.
int launch(const LaunchOptions& options, const std::string& executable);

/// Environment variables a worker started by `launch` reads: set on restarts to the run
/// directory of the previous attempt, which `stratum train` resumes from.
inline constexpr const char* kResumeRunVariable = "STRATUM_RESUME_RUN";
/// Where a worker started by `launch` writes its run directory (rank 0), so a restart knows it.
inline constexpr const char* kRunDirFileVariable = "STRATUM_RUN_DIR_FILE";
/// The launcher's own flags, shell-quoted, so a worker can print the command that resumes the
/// whole job rather than one process of it.
inline constexpr const char* kLaunchArgsVariable = "STRATUM_LAUNCH_ARGS";

}  // namespace stratum::distributed
