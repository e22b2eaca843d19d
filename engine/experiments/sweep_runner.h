#pragma once
// Runs a sweep's planned runs as `stratum train` processes, N at a time, each a normal run
// directory under <out>/runs, recording every start and exit in sweep.json. Started again
// with the same plan it skips finished runs and resumes unfinished ones from their checkpoints.

#include <cstdint>
#include <string>
#include <vector>

#include "engine/experiments/sweep_plan.h"

namespace stratum::experiments {

/// How `stratum sweep` runs its plan.
struct SweepOptions {
  std::string base_config;
  std::vector<std::string> base_overrides;  ///< --set, applied to every run before its own
  std::vector<std::string> plugins;         ///< --plugin, passed to every run
  std::string out_dir;
  int64_t parallel = 1;
  int64_t threads_per_run = 0;              ///< trainer.threads for each run (0: leave the config's)
  std::vector<std::string> launch_args;     ///< non-empty: each run is `stratum launch ARGS -- train ...`
  bool retry_failed = false;                ///< rerun runs that failed before
  std::vector<std::string> command;         ///< the sweep's own arguments, for sweep.json
  std::string executable;                   ///< the stratum binary the runs start
};

/// The `--set` overrides of one run's `stratum train`: the sweep's, the run's own, then where it
/// goes (run.output_dir, run.name) and its share of the threads.
std::vector<std::string> run_overrides(const SweepOptions& options, const PlannedRun& run);

/// Runs `runs` (planned from `resolved_base`) to the end or to a stop request (SIGINT /
/// SIGTERM: the runs checkpoint and stop; run the command again to continue). Returns 0 when
/// every run finished, 3 when some failed (sweep.json has their exit codes), 130 when stopped.
int run_sweep(const SweepOptions& options, const std::vector<PlannedRun>& runs, const std::string& resolved_base);

}  // namespace stratum::experiments
