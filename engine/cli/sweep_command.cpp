// `stratum sweep --config F --out DIR [--grid K=[a,b]]... [--ablate K]... [--sample N --range K=LO:HI]...
// [--seeds 1,2] [--parallel N]`: grids, ablations and random search, each run a normal run
// directory, resumable after a kill by running the same command again.

#include <cstdio>
#include <thread>

#include "core/error.h"
#include "core/log.h"
#include "core/text.h"
#include "engine/cli/args.h"
#include "engine/cli/commands.h"
#include "engine/config.h"
#include "engine/experiments/sweep_plan.h"
#include "engine/experiments/sweep_runner.h"
#include "engine/plugin_loader.h"
#include "engine/preflight.h"
#include "engine/registry.h"

namespace stratum::cli {
namespace {

std::vector<int64_t> parse_seeds(const std::string& text) {
  std::vector<int64_t> seeds;
  for (const std::string& s : experiments::split_value_list(text)) {
    seeds.push_back(parse_count_flag("--seeds", s, 0, int64_t{1} << 62));
  }
  if (seeds.empty()) throw UserError("--seeds: no seeds (expected e.g. --seeds 1,2,3)");
  return seeds;
}

}  // namespace

int sweep_command(const Args& args, Registry& registry) {
  std::string config_path, out, seeds_text, parallel_text = "1", samples_text = "0", sample_seed_text = "0", launch;
  std::vector<std::string> overrides, plugins;
  experiments::SweepRequest request;
  bool retry_failed = false, dry_run = false;
  ArgParser parser("stratum sweep",
                   "--config FILE --out DIR [--grid KEY=[a,b]]... [--ablate KEY[=VALUE]]... [--sample N --range "
                   "KEY=LO:HI]... [--seeds 1,2,3] [--parallel N]",
                   "Run a grid, an ablation or a random search of training runs; rerun the same command to continue "
                   "a sweep that was stopped or killed.");
  parser.option("--config", "FILE", "the base run configuration (YAML)", &config_path, true);
  parser.option("--out", "DIR", "the sweep's folder: sweep.json, results, logs/ and runs/", &out, true);
  parser.repeated("--set", "KEY=VALUE", "override a key of the base config for every run", &overrides);
  parser.repeated("--grid", "KEY=[a,b,...]", "values of one key; several grids make their cartesian product",
                  &request.grids);
  parser.repeated("--ablate", "KEY[=VALUE]",
                  "one extra run with this component off (false, 0, [] or its section's off switch, e.g. trainer.ema, "
                  "adapters.lora) or set to VALUE",
                  &request.ablations);
  parser.option("--sample", "N", "random search: N draws from the --range keys", &samples_text);
  parser.repeated("--range", "KEY=LO:HI", "a range to draw from: LO:HI uniform, log:LO:HI log-uniform, int:LO:HI",
                  &request.ranges);
  parser.option("--sample-seed", "S", "seed of the random search's draws", &sample_seed_text);
  parser.option("--seeds", "S1,S2,...", "run every setting once per seed (run.seed); results give mean, sd, 95% CI",
                &seeds_text);
  parser.option("--parallel", "N", "runs at a time (each gets its share of the CPU threads, or a GPU of its own)",
                &parallel_text);
  parser.option("--launch", "\"ARGS\"", "start each run with stratum launch ARGS -- train ... (e.g. \"--nproc-per-node 2\")",
                &launch);
  parser.repeated("--plugin", "LIB.so", "load a plugin in every run", &plugins);
  parser.flag("--retry-failed", "run again the runs that failed before (they are skipped otherwise)", &retry_failed);
  parser.flag("--dry-run", "print the planned runs and stop", &dry_run);
  if (!parser.parse(args)) {
    std::fputs(parser.help().c_str(), stdout);
    return kExitOk;
  }
  request.samples = parse_count_flag("--sample", samples_text, 0, 100000);
  request.sample_seed = static_cast<uint64_t>(parse_count_flag("--sample-seed", sample_seed_text, 0));
  if (!seeds_text.empty()) request.seeds = parse_seeds(seeds_text);
  const int64_t parallel = parse_count_flag("--parallel", parallel_text, 1, 256);

  experiments::SweepOptions options;
  options.base_config = config_path;
  options.base_overrides = overrides;
  options.plugins = plugins;
  options.out_dir = out;
  options.parallel = parallel;
  for (const std::string& word : split(launch, ' ')) {
    if (!word.empty()) options.launch_args.push_back(word);
  }
  options.retry_failed = retry_failed;
  options.command = args;
  options.executable = "/proc/self/exe";

  // Everything is checked before any run starts: every planned run's config, as its `stratum
  // train` will load it, passes preflight.
  const RunConfig base = load_config(config_path, overrides);
  log::set_level(base.logging.level);
  const std::vector<experiments::PlannedRun> runs = experiments::plan_sweep(request, base);
  bool threads_varied = false;
  for (const std::string& o : overrides) threads_varied = threads_varied || o.rfind("trainer.threads=", 0) == 0;
  for (const experiments::PlannedRun& run : runs) {
    for (const std::string& o : run.overrides()) threads_varied = threads_varied || o.rfind("trainer.threads=", 0) == 0;
  }
  const int64_t cores = std::max<int64_t>(1, static_cast<int64_t>(std::thread::hardware_concurrency()));
  if (parallel > 1 && !threads_varied) options.threads_per_run = std::max<int64_t>(1, cores / parallel);
  load_plugins(base.plugins, plugins, registry);
  for (const experiments::PlannedRun& run : runs) preflight(load_config(config_path, experiments::run_overrides(options, run)), registry);

  if (dry_run) {
    std::printf("%zu runs (%lld at a time%s):\n", runs.size(), static_cast<long long>(parallel),
                options.threads_per_run > 0 ? (", " + std::to_string(options.threads_per_run) + " threads each").c_str() : "");
    for (const experiments::PlannedRun& run : runs) {
      std::printf("  %-40s %s\n", run.id.c_str(), join(run.overrides(), " ").c_str());
    }
    return kExitOk;
  }
  return experiments::run_sweep(options, runs, dump_config(base));
}

}  // namespace stratum::cli
