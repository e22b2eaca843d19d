#include "engine/training/training_job.h"

#include <cstdlib>
#include <fstream>
#include <utility>

#include "core/error.h"
#include "core/log.h"
#include "core/torch_compat.h"
#include "distributed/launcher.h"
#include "distributed/mesh.h"
#include "distributed/process_group.h"
#include "engine/config.h"
#include "engine/training_checkpoint.h"

namespace stratum::training {

TrainingJob::TrainingJob(distributed::WorldInfo world, RunDir run_dir)
    : world_(std::move(world)), run_dir_(std::move(run_dir)) {}
TrainingJob::TrainingJob(TrainingJob&&) noexcept = default;
TrainingJob::~TrainingJob() = default;

TrainingJob TrainingJob::start(const RunConfig& config, const distributed::WorldInfo& world) {
  const int tensor_parallel = static_cast<int>(config.distributed.tensor_parallel);
  if (tensor_parallel > 1 && !world.is_distributed()) {
    config.fail("distributed.tensor_parallel", "splits the model over " + std::to_string(tensor_parallel) +
                                                   " processes, but this is one; start it with stratum launch "
                                                   "--nproc-per-node " + std::to_string(tensor_parallel) + " -- train ...");
  }
  if (world.world_size % tensor_parallel != 0) {
    config.fail("distributed.tensor_parallel", std::to_string(tensor_parallel) + " does not divide the job's " +
                                                   std::to_string(world.world_size) + " ranks (WORLD_SIZE); the job "
                                                   "needs tensor_parallel × data-parallel ranks");
  }
  std::unique_ptr<distributed::ProcessGroup> group;
  std::unique_ptr<distributed::Mesh> mesh;
  if (world.is_distributed()) {
    distributed::ProcessGroupOptions options;
    options.backend = config.distributed.backend;
    options.cuda = config.trainer.device == DeviceChoice::cuda ||
                   (config.trainer.device == DeviceChoice::automatic && compat::cuda_available());
    options.init_timeout_s = config.distributed.init_timeout_s;
    options.collective_timeout_s = config.distributed.collective_timeout_s;
    group = distributed::ProcessGroup::connect(world, options);
    log::info("process group: " + group->backend() + ", rank " + std::to_string(world.rank) + " of " +
              std::to_string(world.world_size) + " (local rank " + std::to_string(world.local_rank) + "), rendezvous " +
              world.master_addr + ":" + std::to_string(world.master_port));
    mesh = distributed::Mesh::form(*group, tensor_parallel);
    if (tensor_parallel > 1) log::info("mesh: " + mesh->describe());
  }
  // Rank 0 creates the run directory and the others join it (they write only their own log there).
  RunDir run_dir = world.is_primary() ? RunDir::create(config.run.output_dir, config.run.name, RunDir::timestamp_now())
                                      : RunDir::joined(group->share_from_primary("run_dir", ""));
  if (group && world.is_primary()) group->share_from_primary("run_dir", run_dir.path());

  TrainingJob job(world, std::move(run_dir));
  job.group_ = std::move(group);
  job.mesh_ = std::move(mesh);
  if (job.mesh_) job.groups_ = job.mesh_->groups();
  return job;
}

std::string TrainingJob::resume_after_restart(const std::string& resume) const {
  if (const char* file = std::getenv(distributed::kRunDirFileVariable); file && world_.is_primary()) {
    std::ofstream(file) << run_dir_.path() << "\n";
  }
  const char* previous = std::getenv(distributed::kResumeRunVariable);
  if (!resume.empty() || !previous || !*previous) return resume;
  try {
    const std::string checkpoint = resolve_checkpoint(previous);
    log::info(std::string("restart: resuming from ") + checkpoint);
    return checkpoint;
  } catch (const UserError&) {
    log::warn(std::string("restart: ") + previous + " has no complete checkpoint; starting afresh");
    return resume;
  }
}

}  // namespace stratum::training
