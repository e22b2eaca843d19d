#pragma once
// The training loop: data and model from the registry, optimizer and schedule from the
// config, progress on the console, metrics.jsonl, and evaluation on every split.

#include <cstdint>
#include <string>
#include <vector>

#include "distributed/collectives.h"
#include "engine/config.h"
#include "engine/evaluator.h"

namespace stratum {

class Registry;
class RunDir;

/// What a finished run reports.
struct TrainingOutcome {
  int64_t steps = 0;
  double seconds = 0;
  double first_loss = 0;  ///< mean training loss of the first logged window
  double last_loss = 0;   ///< mean training loss of the last logged window
  std::vector<SplitEvaluation> final_evaluation;  ///< seen, validation, unseen
  std::string unseen_description;                 ///< how the unseen split was held out
  bool interrupted = false;                       ///< stopped early by SIGINT / SIGTERM
  bool stopped_early = false;                     ///< ended by trainer.early_stopping
  std::string checkpoint;                         ///< the last checkpoint written
};

/// Trains the configured model and writes metrics.jsonl, checkpoints and eval.json into
/// `run_dir`. With `resume_from` (a checkpoint, or a run directory whose latest checkpoint is
/// used) it continues from that step exactly as the uninterrupted run would have.
/// `config` must have passed `preflight`.
///
/// With `groups` this process is one rank of a multi-process job: every rank builds the same
/// data pipeline (checked); with tensor parallelism each rank holds its part of a split model;
/// each global batch of `trainer.batch_size` × replicas examples is split across the
/// data-parallel replicas, gradients are averaged over them while backward runs, evaluation
/// is sharded and its figures reduced, and only rank 0 writes metrics, checkpoints (the whole
/// model, with every rank's random generators) and reports into `run_dir`.
TrainingOutcome train(const RunConfig& config, const Registry& registry, const RunDir& run_dir,
                      const std::string& resume_from = "", const ParallelGroups* groups = nullptr);

}  // namespace stratum
