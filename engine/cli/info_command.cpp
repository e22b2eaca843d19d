// `stratum info`: versions, devices, libraries and everything registered.

#include <torch/torch.h>

#include <cstdio>

#include "engine/cli/args.h"
#include "engine/cli/commands.h"
#include "engine/plugin.h"
#include "engine/plugin_loader.h"
#include "engine/registry.h"
#include "core/system_info.h"
#include "core/torch_compat.h"
#include "core/version.h"
#include "distributed/world.h"

namespace stratum::cli {
namespace {

const char* yes_no(bool available) { return available ? "available" : "not available"; }

// 22050664 -> "22,050,664"
std::string with_commas(int64_t n) {
  std::string digits = std::to_string(n), out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

}  // namespace

int info_command(const Args& args, Registry& registry) {
  std::vector<std::string> plugins;
  ArgParser parser("stratum info", "[--plugin LIB.so]...",
                   "Print LibTorch version, devices, BLAS, and the registered models and sources.");
  parser.repeated("--plugin", "LIB.so", "load a plugin first, so its models and sources are listed", &plugins);
  if (!parser.parse(args)) {
    std::fputs(parser.help().c_str(), stdout);
    return 0;
  }
  load_plugins({}, plugins, registry);
  std::printf("stratum   %s (plugin ABI %d)\n", stratum_version(), STRATUM_PLUGIN_ABI_VERSION);
  std::printf("LibTorch  %s\n", compat::torch_version().c_str());
  std::printf("BLAS      %s\n", loaded_blas().c_str());
  std::printf("threads   %d intra-op\n", torch::get_num_threads());
  std::printf("CUDA      %s", yes_no(compat::cuda_available()));
  if (compat::cuda_available()) std::printf(" (%d devices)", static_cast<int>(torch::cuda::device_count()));
  std::printf("\nNCCL      %s\nGloo      %s\n", yes_no(compat::nccl_available()), yes_no(compat::gloo_available()));
  std::printf("fused attention kernel: %s\n", yes_no(compat::has_fused_attention()));
  // This process's place in a multi-process job, as a worker would read it (a bad environment
  // is the same one-line error train gives).
  const distributed::WorldInfo world = distributed::world_from_environment(distributed::process_environment());
  std::printf("world     rank %d of %d (local %d of %d), master %s:%d, launcher %s\n", world.rank, world.world_size,
              world.local_rank, world.local_world_size, world.master_addr.c_str(), world.master_port,
              world.launcher.c_str());

  std::printf("\nmodels (parameters at their reference shape):\n");
  for (const auto& name : registry.models.names()) {
    const ModelEntry& entry = *registry.models.find(name);
    const int64_t parameters = entry.parameter_count
                                   ? entry.parameter_count(entry.reference_options, entry.reference_spec)
                                   : models::count_parameters(*entry.build(entry.reference_options, entry.reference_spec));
    std::printf("  %-16s %14s  %s\n", name.c_str(), with_commas(parameters).c_str(), entry.description.c_str());
  }
  std::printf("\ndata sources:\n");
  for (const auto& name : registry.data_sources.names()) {
    std::printf("  %-16s %s\n", name.c_str(), registry.data_sources.find(name)->description.c_str());
  }
  return 0;
}

}  // namespace stratum::cli
