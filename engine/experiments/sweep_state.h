#pragma once
// sweep.json: a sweep's plan and every run's state, rewritten atomically after each change,
// so a sweep killed at any moment is continued by running the same command again.

#include <cstdint>
#include <string>
#include <vector>

#include "engine/experiments/sweep_plan.h"

namespace stratum::experiments {

/// Where a planned run stands.
enum class RunState { pending, running, finished, failed, interrupted };
const char* run_state_name(RunState state);

/// A run's exit code when the sweep that started it was killed first and never saw it end.
inline constexpr int kExitNotSeen = -1;

/// One start of a run (a resumed run has several).
struct RunAttempt {
  std::string run_dir;    ///< the run directory it wrote ("" when it died before making one)
  double seconds = 0;     ///< wall time
  int exit_code = 0;      ///< 128 + N for signal N; kExitNotSeen when the sweep died before the run ended
  bool resumed = false;   ///< continued the previous attempt's checkpoint
};

/// A planned run and what has happened to it.
struct SweepRun {
  PlannedRun plan;
  RunState state = RunState::pending;
  int exit_code = 0;
  int64_t pid = 0;  ///< while running
  std::vector<RunAttempt> attempts;

  /// The newest attempt's run directory ("" when none made one).
  std::string run_dir() const;
  double seconds() const;
};

/// The whole sweep as sweep.json records it.
struct SweepState {
  std::string base_config;
  std::vector<std::string> command;  ///< the arguments of `stratum sweep`, for the record
  std::string plan_sha256;           ///< of the resolved base config and every run's overrides
  std::vector<SweepRun> runs;
};

/// sha256 over the resolved base config and the planned runs: a rerun must plan the same.
std::string plan_fingerprint(const std::string& resolved_base, const std::vector<PlannedRun>& runs);

std::string sweep_state_json(const SweepState& state);

/// Reads sweep.json; a UserError naming `path` when it is not one.
SweepState read_sweep_state(const std::string& path);

}  // namespace stratum::experiments
