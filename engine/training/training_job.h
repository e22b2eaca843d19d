#pragma once
// The processes of one training job as a launcher started them (`stratum launch`, torchrun,
// Slurm): where this process stands, the process group and mesh it joined, and the run
// directory the ranks share. A single process is a job of one, with no group.

#include <memory>
#include <string>

#include "distributed/collectives.h"
#include "distributed/world.h"
#include "engine/run_dir.h"

namespace stratum {
struct RunConfig;
}
namespace stratum::distributed {
class ProcessGroup;
class Mesh;
}  // namespace stratum::distributed

namespace stratum::training {

/// This process's part of a training job: its rank, its process groups and the shared run directory.
class TrainingJob {
 public:
  /// Checks `distributed.tensor_parallel` against `world` (a UserError naming the key), meets
  /// the other ranks, and has rank 0 create the run directory that the others join. Nothing is
  /// written before the ranks have met.
  static TrainingJob start(const RunConfig& config, const distributed::WorldInfo& world);

  TrainingJob(TrainingJob&&) noexcept;
  ~TrainingJob();

  const distributed::WorldInfo& world() const { return world_; }
  const RunDir& run_dir() const { return run_dir_; }
  /// The data- and tensor-parallel groups, or nullptr in a single process.
  const ParallelGroups* groups() const { return mesh_ ? &groups_ : nullptr; }

  /// The checkpoint to resume from: `resume` when given; otherwise, after `stratum launch`
  /// restarted a failed group, the previous attempt's latest complete checkpoint (if any).
  /// Rank 0 also tells the launcher where its run directory is.
  std::string resume_after_restart(const std::string& resume) const;

 private:
  TrainingJob(distributed::WorldInfo world, RunDir run_dir);

  distributed::WorldInfo world_;
  std::unique_ptr<distributed::ProcessGroup> group_;
  std::unique_ptr<distributed::Mesh> mesh_;
  ParallelGroups groups_;
  RunDir run_dir_;
};

}  // namespace stratum::training
