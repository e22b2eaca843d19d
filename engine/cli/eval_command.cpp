// `stratum eval --checkpoint DIR [--config F.yaml] [--slices YAML]`: evaluate a saved model on every split.

#include <torch/torch.h>

#include <nlohmann/json.hpp>

#include <cstdio>

#include "engine/cli/args.h"
#include "engine/cli/commands.h"
#include "engine/cli/evaluation_table.h"
#include "engine/config.h"
#include "core/atomic_file.h"
#include "core/error.h"
#include "engine/evaluator.h"
#include "engine/language_model.h"
#include "engine/multiple_choice.h"
#include "models/decoder.h"
#include "engine/plugin_loader.h"
#include "engine/preflight.h"
#include "engine/registry.h"
#include "engine/weight_average.h"
#include "engine/run_dir.h"
#include "engine/training_checkpoint.h"
#include "data/mixing/read_sources.h"
#include "engine/slices/slice_evaluation.h"

namespace stratum::cli {
namespace {

// --task multiple_choice: a language model's accuracy on HellaSwag-style items.
int multiple_choice(const LanguageModelSource& source, const std::string& items_path, const std::string& out,
                    const std::string& items_out, Registry& registry) {
  if (items_path.empty()) throw UserError("stratum eval: --task multiple_choice needs --data FILE.jsonl");
  const std::vector<ChoiceItem> items = read_choice_items(items_path);
  const LanguageModel loaded = load_language_model(source, registry, "stratum eval");
  const int64_t max_length = loaded.model->decoder() ? loaded.model->decoder()->context()
                                                     : loaded.config.data.text.max_length;
  const ChoiceEvaluation e = evaluate_choices(*loaded.model, items, *loaded.tokenizer, max_length,
                                              static_cast<uint64_t>(loaded.config.run.seed));
  std::printf("multiple choice: %lld items from %s\n", static_cast<long long>(e.items), items_path.c_str());
  std::printf("  accuracy (summed log-likelihood)      %.4f  (95%% bootstrap interval %.4f-%.4f)\n", e.accuracy,
              e.accuracy_low, e.accuracy_high);
  std::printf("  accuracy (log-likelihood per token)   %.4f  (95%% bootstrap interval %.4f-%.4f)\n", e.normalized,
              e.normalized_low, e.normalized_high);
  nlohmann::ordered_json summary;
  summary["task"] = "multiple_choice";
  summary["data"] = items_path;
  summary["items"] = e.items;
  summary["accuracy"] = e.accuracy;
  summary["accuracy_ci95"] = {e.accuracy_low, e.accuracy_high};
  summary["accuracy_normalized"] = e.normalized;
  summary["accuracy_normalized_ci95"] = {e.normalized_low, e.normalized_high};
  write_file_atomically(out, summary.dump(2) + "\n");
  if (!items_out.empty()) write_file_atomically(items_out, e.per_item_jsonl);
  std::printf("-> %s%s\n", out.c_str(), items_out.empty() ? "" : (" and " + items_out).c_str());
  return kExitOk;
}

}  // namespace

int eval_command(const Args& args, Registry& registry) {
  std::string config_path, checkpoint, out = "eval.json", task = "splits", items_path, weights, items_out;
  std::vector<std::string> overrides, plugins;
  bool averaged = false;
  ArgParser parser("stratum eval",
                   "--checkpoint PATH [--ema] [--config FILE] [--slices YAML] [--set KEY=VALUE]... [--plugin LIB.so]... [--out FILE]\n"
                   "       stratum eval --task multiple_choice --data FILE.jsonl (--checkpoint PATH | --config FILE "
                   "[--weights F]) [--items FILE.jsonl]",
                   "Evaluate a checkpoint's model on the seen, validation and unseen splits of the configured data, "
                   "or (--task multiple_choice) a language model on HellaSwag-style items.");
  parser.option("--config", "FILE",
                "run configuration (YAML); default: the checkpoint's config.resolved.yaml (what it was trained with)",
                &config_path);
  parser.option("--checkpoint", "PATH", "a checkpoint directory, or a run directory (its latest checkpoint)", &checkpoint);
  parser.repeated("--set", "KEY=VALUE", "override one config key", &overrides);
  std::string slices;
  parser.option("--slices", "YAML",
                "evaluate by slice: eval.slices as a YAML list, e.g. '[{by: [source]}, {by: [source, region]}]'",
                &slices);
  parser.repeated("--plugin", "LIB.so", "load a plugin (after the config's plugins:)", &plugins);
  parser.option("--out", "FILE", "where to write the evaluation (default eval.json)", &out);
  parser.flag("--ema", "evaluate the checkpoint's weight average (trainer.ema) instead of its weights", &averaged);
  parser.option("--task", "NAME", "splits (default: every split of the configured data) or multiple_choice", &task);
  parser.option("--data", "FILE", "with --task multiple_choice: the items (JSONL: ctx, endings, label)", &items_path);
  parser.option("--weights", "FILE", "with --task multiple_choice and --config: reference-layout weights", &weights);
  parser.option("--items", "FILE", "with --task multiple_choice: write each item's scores here (JSONL)", &items_out);
  if (!parser.parse(args)) {
    std::fputs(parser.help().c_str(), stdout);
    return kExitOk;
  }
  if (task == "multiple_choice") {
    return multiple_choice({checkpoint, config_path, overrides, weights, plugins}, items_path, out, items_out, registry);
  }
  if (task != "splits") throw UserError("--task: unknown task \"" + task + "\" (splits or multiple_choice)");
  if (!items_path.empty() || !weights.empty() || !items_out.empty()) {
    throw UserError("stratum eval: --data, --weights and --items go with --task multiple_choice");
  }
  if (checkpoint.empty()) throw UserError("stratum eval: missing required option --checkpoint PATH (see --help)");
  if (!slices.empty()) overrides.push_back("eval.slices=" + slices);
  const std::string dir = resolve_checkpoint(checkpoint);
  // Without --config, the checkpoint's own resolved config (what it was trained with).
  if (config_path.empty()) config_path = dir + "/config.resolved.yaml";
  const RunConfig config = load_config(config_path, overrides);
  load_plugins(config.plugins, plugins, registry);
  preflight(config, registry);
  if (config.trainer.threads > 0) torch::set_num_threads(static_cast<int>(config.trainer.threads));
  data::DataContext context;
  context.seed = static_cast<uint64_t>(config.run.seed);
  context.slice_fields = slice_fields(config.eval.slices);
  const data::SplitData data = data::read_sources(registry.data_sources, config.data, context);
  check_slices_against_data(config, data);
  check_against_data(config, registry, data.spec);
  models::ModelPtr model = registry.models.find(config.model.name)->build(config.model, data.spec);
  apply_model_transforms(registry, *model, config);
  const int64_t step = load_model_weights(dir, *model);
  if (averaged) use_checkpoint_average(dir, *model);

  OpenSetScores open_set;
  const std::vector<SplitEvaluation> splits = evaluate_all(*model, data, config, torch::kCPU, &open_set);
  print_evaluation_table(splits);
  print_slice_tables(splits);
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
