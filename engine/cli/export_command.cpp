// `stratum export --checkpoint DIR --format safetensors`: a checkpoint's model in its reference
// layout (Hugging Face GPT-2 names for gpt-*, timm names for vit-*), ready for those libraries.

#include <torch/torch.h>

#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "adapters/lora.h"
#include "adapters/prefix.h"
#include "adapters/quant/quantize_model.h"
#include "engine/cli/args.h"
#include "engine/cli/commands.h"
#include "engine/config.h"
#include "core/error.h"
#include "core/sha256.h"
#include "engine/audit/run_audit.h"
#include "engine/prediction.h"
#include "models/reference_weights.h"
#include "engine/registry.h"
#include "engine/training_checkpoint.h"
#include "engine/weight_average.h"

namespace fs = std::filesystem;

namespace stratum::cli {

int export_command(const Args& args, Registry& registry) {
  std::string checkpoint, format = "safetensors", out;
  bool averaged = false;
  ArgParser parser("stratum export", "--checkpoint PATH [--format safetensors] [--out FILE] [--ema]",
                   "Write a checkpoint's model weights in the reference (Hugging Face / timm) layout.");
  parser.option("--checkpoint", "PATH", "a checkpoint directory, or a run directory (its latest checkpoint)",
                &checkpoint, true);
  parser.option("--format", "NAME", "output format (safetensors)", &format);
  parser.option("--out", "FILE", "where to write (default: MODEL-step-N.safetensors here)", &out);
  parser.flag("--ema", "export the checkpoint's weight average (trainer.ema) instead of its weights", &averaged);
  if (!parser.parse(args)) {
    std::fputs(parser.help().c_str(), stdout);
    return kExitOk;
  }
  if (format != "safetensors") throw UserError("--format: unknown format \"" + format + "\" (supported: safetensors)");
  const CheckpointModel loaded = load_checkpoint_model(checkpoint, registry);
  if (averaged) use_checkpoint_average(loaded.dir, *loaded.model);
  // The reference layout has float weights and no adapters: quantized weights go out
  // dequantized, LoRA updates folded into them; prefixes go to a file of their own.
  adapters::quant::dequantize_linear_layers(*loaded.model);
  adapters::merge_lora(*loaded.model);
  const std::string& dir = loaded.dir;
  const RunConfig& config = loaded.config;
  const int64_t step = loaded.state.step;
  if (out.empty()) out = config.model.name + "-step-" + std::to_string(step) + (averaged ? "-ema" : "") + ".safetensors";
  SafetensorsFile file = reference_weights(*loaded.model);
  file.metadata["stratum_model"] = config.model.name;
  file.metadata["stratum_step"] = std::to_string(step);
  if (averaged) file.metadata["stratum_weights"] = "ema";
  write_safetensors(out, file);
  const std::string run_dir = audit::run_dir_of_checkpoint(dir);
  audit::record_event(config, run_dir, "export",
                      nlohmann::json{{"run", run_dir}, {"checkpoint", dir}, {"step", step}, {"out", fs::absolute(out).string()},
                                     {"sha256", sha256_file(out)}, {"weights", averaged ? "ema" : "model"}}
                          .dump());
  std::printf("%s (step %lld, %zu tensors, layout %s) -> %s\n", dir.c_str(), static_cast<long long>(step),
              file.tensors.size(), file.metadata["layout"].c_str(), out.c_str());
  if (adapters::find_prefix(*loaded.model)) {
    const std::string stem = out.size() > 12 && out.compare(out.size() - 12, 12, ".safetensors") == 0
                                 ? out.substr(0, out.size() - 12) : out;
    adapters::save_prefix(*loaded.model, stem + ".prefix.safetensors");
    std::printf("prefixes (not part of the reference layout) -> %s.prefix.safetensors\n", stem.c_str());
  }
  return kExitOk;
}

}  // namespace stratum::cli
