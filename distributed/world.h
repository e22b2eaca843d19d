#pragma once
// This process's place in a multi-process job, read from the torchrun or Slurm environment.

#include <map>
#include <string>

namespace stratum::distributed {

/// Rank, world size and rendezvous address of this process. A single process is rank 0 of 1.
struct WorldInfo {
  int rank = 0;
  int world_size = 1;
  int local_rank = 0;
  int local_world_size = 1;
  std::string master_addr = "127.0.0.1";
  int master_port = 29500;
  std::string launcher = "none";  ///< "torchrun" (also `stratum launch`), "slurm" or "none"

  bool is_distributed() const { return world_size > 1; }
  bool is_primary() const { return rank == 0; }
};

/// Reads the torchrun variables (RANK, WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE, MASTER_ADDR,
/// MASTER_PORT) or, when they are absent, Slurm's (SLURM_PROCID, SLURM_NTASKS, SLURM_LOCALID,
/// the first host of SLURM_NODELIST). A missing variable, a non-number or a rank outside the
/// world is a UserError naming the variable.
WorldInfo world_from_environment(const std::map<std::string, std::string>& env);

/// The process's own environment as a map (for `world_from_environment`).
std::map<std::string, std::string> process_environment();

/// The first host of a Slurm node list: "node[03-05,07],gpu1" -> "node03".
std::string first_slurm_host(const std::string& nodelist);

}  // namespace stratum::distributed
