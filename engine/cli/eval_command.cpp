// `stratum eval --config F.yaml --checkpoint DIR`: evaluate a saved model on every split.

#include <torch/torch.h>

#include <cstdio>

#include "engine/cli/args.h"
#include "engine/cli/commands.h"
#include "engine/cli/evaluation_table.h"
#include "engine/config.h"
#include "core/error.h"
#include "engine/evaluator.h"
#include "engine/plugin_loader.h"
#include "engine/preflight.h"
#include "engine/registry.h"
#include "engine/run_dir.h"
#include "engine/training_checkpoint.h"

namespace stratum::cli {

int eval_command(const Args& args, Registry& registry) {
  std::string config_path, checkpoint, out = "eval.json";
  std::vector<std::string> overrides, plugins;
  ArgParser parser("stratum eval", "--config FILE --checkpoint PATH [--set KEY=VALUE]... [--plugin LIB.so]... [--out FILE]",
                   "Evaluate a checkpoint's model on the seen, validation and unseen splits of the configured data.");
  parser.option("--config", "FILE", "run configuration (YAML) the checkpoint was trained with", &config_path, true);
  parser.option("--checkpoint", "PATH", "a checkpoint directory, or a run directory (its latest checkpoint)",
                &checkpoint, true);
  parser.repeated("--set", "KEY=VALUE", "override one config key", &overrides);
  parser.repeated("--plugin", "LIB.so", "load a plugin (after the config's plugins:)", &plugins);
  parser.option("--out", "FILE", "where to write the evaluation (default eval.json)", &out);
  if (!parser.parse(args)) {
    std::fputs(parser.help().c_str(), stdout);
    return kExitOk;
  }
  const RunConfig config = load_config(config_path, overrides);
  load_plugins(config.plugins, plugins, registry);
  preflight(config, registry);
  const std::string dir = resolve_checkpoint(checkpoint);
  if (config.trainer.threads > 0) torch::set_num_threads(static_cast<int>(config.trainer.threads));
  data::DataContext context;
  context.seed = static_cast<uint64_t>(config.run.seed);
  const data::SplitData data = registry.data_sources.find(config.data.source)->build(config.data, context);
  check_against_data(config, registry, data.spec);
  models::ModelPtr model = registry.models.find(config.model.name)->build(config.model, data.spec);
  apply_model_transforms(registry, *model, config);
  const int64_t step = load_model_weights(dir, *model);

  OpenSetScores open_set;
  const std::vector<SplitEvaluation> splits = evaluate_all(*model, data, config, torch::kCPU, &open_set);
  print_evaluation_table(splits);
  if (open_set.available) {
    std::printf("open set (unseen classes vs validation): AUROC %.4f; at confidence < %.2f rejects %.1f%% of unseen, "
                "%.1f%% of validation\n",
                open_set.auroc, open_set.threshold, 100 * open_set.unseen_rejection_rate,
                100 * open_set.validation_rejection_rate);
  }
  const models::ModelFacts facts = models::model_facts(*model);
  write_file_atomically(out, evaluation_json(splits, model->is_language_model() ? std::vector<std::string>{} : data.spec.class_names, facts, step, open_set));
  std::printf("checkpoint %s (step %lld) -> %s\n", dir.c_str(), static_cast<long long>(step), out.c_str());
  return kExitOk;
}

}  // namespace stratum::cli
