#include "engine/trainer.h"

#include "engine/training/training_run.h"

namespace stratum {

TrainingOutcome train(const RunConfig& config, const Registry& registry, const RunDir& run_dir,
                      const std::string& resume_from, const ParallelGroups* groups) {
  return training::TrainingRun(config, registry, run_dir, groups).run(resume_from);
}

}  // namespace stratum
