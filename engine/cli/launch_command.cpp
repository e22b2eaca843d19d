// `stratum launch`: the torchrun-style launcher (distributed/launcher.h).

#include <algorithm>
#include <cstdio>

#include "engine/cli/args.h"
#include "engine/cli/commands.h"
#include "core/error.h"
#include "core/torch_compat.h"
#include "distributed/launcher.h"

namespace stratum::cli {

int launch_command(const Args& args, Registry&) {
  const auto separator = std::find(args.begin(), args.end(), "--");
  const Args own(args.begin(), separator);
  std::string nproc = "1", nnodes = "1", node_rank = "0", port = "29500", restarts = "0", stop_timeout = "30";
  distributed::LaunchOptions options;
  ArgParser parser("stratum launch",
                   "--nproc-per-node N|auto [--nnodes M --node-rank R --master-addr A --master-port P] "
                   "[--max-restarts K] -- train --config F ...",
                   "Start this node's workers with the torchrun environment (RANK, LOCAL_RANK, WORLD_SIZE, "
                   "LOCAL_WORLD_SIZE, GROUP_RANK, MASTER_ADDR, MASTER_PORT), prefix their output with their "
                   "rank and forward SIGINT / SIGTERM. When a worker fails the others are stopped; the group "
                   "restarts from its latest complete checkpoint up to K times, else the launcher exits with "
                   "the failing worker's code, naming its rank.");
  parser.option("--nproc-per-node", "N|auto", "workers on this node (auto: one per visible GPU, 1 without)", &nproc);
  parser.option("--nnodes", "M", "nodes in the job (1)", &nnodes);
  parser.option("--node-rank", "R", "this node's index, 0..M-1 (0)", &node_rank);
  parser.option("--master-addr", "A", "address of the rendezvous store, on node 0 (127.0.0.1)", &options.master_addr);
  parser.option("--master-port", "P", "port of the rendezvous store (29500)", &port);
  parser.option("--max-restarts", "K", "restarts of the whole group after a failure (0)", &restarts);
  parser.option("--stop-timeout", "S", "seconds stopped workers get before SIGKILL (30)", &stop_timeout);
  if (!parser.parse(own)) {
    std::fputs(parser.help().c_str(), stdout);
    return kExitOk;
  }
  options.command.assign(separator == args.end() ? args.end() : separator + 1, args.end());
  options.launcher_args = own;
  if (options.command.empty()) throw UserError("stratum launch: no worker command after --, e.g. -- train --config F");
  if (options.command.front() == "launch") throw UserError("stratum launch: a worker cannot be another launcher");
  try {
    find_command(options.command.front());  // refused here, not by every worker
  } catch (const UserError& e) {
    throw UserError(std::string("stratum launch: the worker command: ") + e.what());
  }
  // Bounds a real job stays far inside; they keep every rank and world size an int.
  options.nproc_per_node = nproc == "auto" ? std::max(1, compat::cuda_device_count())
                                           : static_cast<int>(parse_count_flag("--nproc-per-node", nproc, 1, 1024));
  options.nnodes = static_cast<int>(parse_count_flag("--nnodes", nnodes, 1, 65536));
  options.node_rank = static_cast<int>(parse_count_flag("--node-rank", node_rank, 0, 65535));
  if (options.node_rank >= options.nnodes) {
    throw UserError("--node-rank: " + node_rank + " is not below --nnodes " + nnodes);
  }
  options.master_port = static_cast<int>(parse_count_flag("--master-port", port, 1, 65535));
  options.max_restarts = static_cast<int>(parse_count_flag("--max-restarts", restarts, 0, 1000));
  options.stop_timeout_s = parse_number_flag("--stop-timeout", stop_timeout, 0, 86400);
  return distributed::launch(options, "/proc/self/exe");
}

}  // namespace stratum::cli
