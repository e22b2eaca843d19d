// `stratum train --config F.yaml [--set key=value]...`

#include <cstdio>
#include <cstdlib>

#include "core/error.h"
#include "core/log.h"
#include "core/system_info.h"
#include "core/text.h"
#include "core/torch_compat.h"
#include "core/version.h"
#include "distributed/launcher.h"
#include "distributed/world.h"
#include "engine/audit/run_audit.h"
#include "engine/cli/args.h"
#include "engine/cli/commands.h"
#include "engine/cli/evaluation_table.h"
#include "engine/config.h"
#include "engine/plugin_loader.h"
#include "engine/preflight.h"
#include "engine/registry.h"
#include "engine/run_dir.h"
#include "engine/stop_signal.h"
#include "engine/trainer.h"
#include "engine/training/training_job.h"

namespace stratum::cli {
namespace {

void print_summary(const TrainingOutcome& outcome) {
  print_evaluation_table(outcome.final_evaluation);
  print_slice_tables(outcome.final_evaluation);
  const bool language_model = !outcome.final_evaluation.empty() && outcome.final_evaluation[0].language_model;
  for (const auto& e : outcome.final_evaluation) {
    if (e.split != "unseen" || e.samples == 0) continue;
    if (language_model) {
      std::printf("\ntest perplexity (unseen split: %s): %.3f\n", outcome.unseen_description.c_str(), e.perplexity);
    } else {
      std::printf("\ntest accuracy (unseen split: %s): %.4f\n", outcome.unseen_description.c_str(), e.scores.accuracy);
    }
  }
}

// The command that continues this run exactly: the same config, overrides and plugins, and
// under `stratum launch` the same launcher flags.
std::string resume_command(const std::string& config_path, const std::vector<std::string>& overrides,
                           const std::vector<std::string>& plugins, const std::string& checkpoint) {
  std::vector<std::string> words{"train", "--config", config_path};
  for (const std::string& o : overrides) words.insert(words.end(), {"--set", o});
  for (const std::string& p : plugins) words.insert(words.end(), {"--plugin", p});
  words.insert(words.end(), {"--resume", checkpoint});
  const char* launch_args = std::getenv(distributed::kLaunchArgsVariable);
  if (launch_args) return "stratum launch " + std::string(launch_args) + " -- " + shell_quote(words);
  const distributed::WorldInfo world = distributed::world_from_environment(distributed::process_environment());
  const std::string note = world.is_distributed() ? "   (start it as this job was: " + world.launcher + " with the same arguments)" : "";
  return "stratum " + shell_quote(words) + note;
}

}  // namespace

int train_command(const Args& args, Registry& registry) {
  std::string config_path, resume;
  std::vector<std::string> overrides, plugins;
  bool new_audit_chain = false;
  ArgParser parser("stratum train", "--config FILE [--set KEY=VALUE]... [--plugin LIB.so]... [--resume PATH]",
                   "Train a model as the YAML config says; writes a run directory and prints its path last.");
  parser.option("--config", "FILE", "run configuration (YAML)", &config_path, /*required=*/true);
  parser.repeated("--set", "KEY=VALUE", "override one config key, e.g. --set trainer.lr=3e-4", &overrides);
  parser.repeated("--plugin", "LIB.so", "load a plugin's models and data sources (after the config's plugins:)",
                  &plugins);
  parser.option("--resume", "PATH",
                "continue from a checkpoint directory, or from the latest complete checkpoint of a run directory",
                &resume);
  parser.flag("--new-audit-chain",
              "when the audit ledger's chain is broken, set it aside and start a new chain (audit.new_chain)",
              &new_audit_chain);
  parser.epilog("config keys (in YAML, or with --set):\n" + config_reference());
  if (!parser.parse(args)) {
    std::fputs(parser.help().c_str(), stdout);
    return kExitOk;
  }

  // Everything the user could have got wrong is checked before any data is read.
  RunConfig config = load_config(config_path, overrides);
  if (new_audit_chain) config.audit.new_chain = true;
  log::set_level(config.logging.level);
  const distributed::WorldInfo world = distributed::world_from_environment(distributed::process_environment());
  log::set_rank(world.rank, world.world_size);
  load_plugins(config.plugins, plugins, registry);
  preflight(config, registry);
  // No run starts on a ledger whose chain is broken (and nothing is written before this).
  if (world.is_primary()) audit::check_ledger_before_run(config);

  // A multi-process job meets before anything is written.
  const training::TrainingJob job = training::TrainingJob::start(config, world);
  const RunDir& run_dir = job.run_dir();
  resume = job.resume_after_restart(resume);
  log::add_file(run_dir.file(world.is_primary() ? "train.log" : "train.rank-" + std::to_string(world.rank) + ".log"));
  if (world.is_primary()) run_dir.write_file("config.resolved.yaml", dump_config(config));
  log::info(std::string("stratum ") + stratum_version() + ", LibTorch " + compat::torch_version() + ", BLAS " +
            loaded_blas());
  log::info("config: " + config_path + " -> " + run_dir.file("config.resolved.yaml"));

  install_stop_handlers();
  const TrainingOutcome outcome = train(config, registry, run_dir, resume, job.groups());
  if (!world.is_primary()) {
    log::flush();
    return kExitOk;
  }
  if (outcome.interrupted) {
    std::printf("\nstopped after step %lld; checkpoint: %s\nresume with: %s\n", static_cast<long long>(outcome.steps),
                outcome.checkpoint.c_str(), resume_command(config_path, overrides, plugins, outcome.checkpoint).c_str());
  } else {
    print_summary(outcome);
  }
  log::flush();
  std::printf("run directory: %s\n", run_dir.path().c_str());
  std::fflush(stdout);
  return kExitOk;
}

}  // namespace stratum::cli
