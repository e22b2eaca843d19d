// `stratum export --checkpoint DIR --format safetensors`: a checkpoint's model in its reference
// layout (Hugging Face GPT-2 names for gpt-*, timm names for vit-*), ready for those libraries.

#include <torch/torch.h>

#include <cstdio>

#include "core/cli/args.h"
#include "core/cli/commands.h"
#include "core/config.h"
#include "core/error.h"
#include "core/plugin_loader.h"
#include "core/reference_weights.h"
#include "core/registry.h"
#include "core/training_checkpoint.h"

namespace stratum::cli {

int export_command(const Args& args, Registry& registry) {
  std::string checkpoint, format = "safetensors", out;
  ArgParser parser("stratum export", "--checkpoint PATH [--format safetensors] [--out FILE]",
                   "Write a checkpoint's model weights in the reference (Hugging Face / timm) layout.");
  parser.option("--checkpoint", "PATH", "a checkpoint directory, or a run directory (its latest checkpoint)",
                &checkpoint, true);
  parser.option("--format", "NAME", "output format (safetensors)", &format);
  parser.option("--out", "FILE", "where to write (default: MODEL-step-N.safetensors here)", &out);
  if (!parser.parse(args)) {
    std::fputs(parser.help().c_str(), stdout);
    return kExitOk;
  }
  if (format != "safetensors") throw UserError("--format: unknown format \"" + format + "\" (supported: safetensors)");
  const std::string dir = resolve_checkpoint(checkpoint);
  const TrainingState state = read_training_state(dir);
  if (state.data_spec.input_shape.empty()) {
    throw UserError(dir + "/state.json: no data_spec (a checkpoint from an older Stratum); re-save it with this version");
  }
  // The checkpoint's own config says which model to rebuild; its weights are what is loaded.
  RunConfig config = load_config(dir + "/config.resolved.yaml");
  config.model.init_from.clear();
  load_plugins(config.plugins, {}, registry);
  const ModelEntry* entry = registry.models.find(config.model.name);
  if (!entry) throw UserError(dir + "/config.resolved.yaml: model.name: " + registry.models.unknown_message(config.model.name));
  models::ModelPtr model = entry->build(config.model, state.data_spec);
  const int64_t step = load_model_weights(dir, *model);
  if (out.empty()) out = config.model.name + "-step-" + std::to_string(step) + ".safetensors";
  SafetensorsFile file = reference_weights(*model);
  file.metadata["stratum_model"] = config.model.name;
  file.metadata["stratum_step"] = std::to_string(step);
  write_safetensors(out, file);
  std::printf("%s (step %lld, %zu tensors, layout %s) -> %s\n", dir.c_str(), static_cast<long long>(step),
              file.tensors.size(), file.metadata["layout"].c_str(), out.c_str());
  return kExitOk;
}

}  // namespace stratum::cli
