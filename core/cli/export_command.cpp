// `stratum export --checkpoint DIR --format safetensors`: a checkpoint's model in its reference
// layout (Hugging Face GPT-2 names for gpt-*, timm names for vit-*), ready for those libraries.

#include <torch/torch.h>

#include <cstdio>

#include "adapters/lora.h"
#include "core/cli/args.h"
#include "core/cli/commands.h"
#include "core/config.h"
#include "core/error.h"
#include "core/prediction.h"
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
  const CheckpointModel loaded = load_checkpoint_model(checkpoint, registry);
  adapters::merge_lora(*loaded.model);  // LoRA updates go out folded into the base weights
  const std::string& dir = loaded.dir;
  const RunConfig& config = loaded.config;
  const int64_t step = loaded.state.step;
  if (out.empty()) out = config.model.name + "-step-" + std::to_string(step) + ".safetensors";
  SafetensorsFile file = reference_weights(*loaded.model);
  file.metadata["stratum_model"] = config.model.name;
  file.metadata["stratum_step"] = std::to_string(step);
  write_safetensors(out, file);
  std::printf("%s (step %lld, %zu tensors, layout %s) -> %s\n", dir.c_str(), static_cast<long long>(step),
              file.tensors.size(), file.metadata["layout"].c_str(), out.c_str());
  return kExitOk;
}

}  // namespace stratum::cli
