#include "engine/language_model.h"

#include <torch/torch.h>

#include <fstream>

#include "core/error.h"
#include "core/torch_compat.h"
#include "data/sources/text_source.h"
#include "engine/plugin_loader.h"
#include "engine/prediction.h"
#include "engine/registry.h"
#include "engine/training/training_helpers.h"

namespace stratum {

LanguageModel load_language_model(const LanguageModelSource& source, Registry& registry, const std::string& command) {
  if (source.checkpoint.empty() == source.config_path.empty()) {
    throw UserError(command + ": give --checkpoint or --config (one of them)");
  }
  if (!source.checkpoint.empty() && (!source.weights.empty() || !source.overrides.empty())) {
    throw UserError(command + ": --weights and --set go with --config; a checkpoint brings its own config");
  }
  LanguageModel out;
  std::shared_ptr<const data::Tokenizer> tokenizer;
  if (!source.checkpoint.empty()) {
    CheckpointModel saved = load_checkpoint_model(source.checkpoint, registry, source.plugins);
    out.config = std::move(saved.config);
    out.model = std::move(saved.model);
    tokenizer = data::load_tokenizer(out.config.data.tokenizer.path);
    // Its trainer.device described the machine it was trained on; here a GPU is used when there is one.
    out.config.trainer.device = DeviceChoice::automatic;
  } else {
    out.config = load_config(source.config_path, source.overrides);
    RunConfig& config = out.config;
    if (!source.weights.empty()) config.model.init_from = source.weights;
    load_plugins(config.plugins, source.plugins, registry);
    if (!config.model.init_from.empty() && !std::ifstream(config.model.init_from)) {
      throw UserError(std::string(source.weights.empty() ? "model.init_from" : "--weights") + ": cannot open " +
                      config.model.init_from);
    }
    const ModelEntry* entry = registry.models.find(config.model.name);
    if (!entry) throw UserError(source.config_path + ": model.name: " + registry.models.unknown_message(config.model.name));
    if (entry->reference_spec.kind != data::InputKind::tokens) {  // not even built on tokens
      throw UserError(command + ": model " + config.model.name + " is not a language model (gpt-* models are)");
    }
    tokenizer = data::load_tokenizer(config.data.tokenizer.path);
    torch::manual_seed(training::derive_seed(static_cast<uint64_t>(config.run.seed), "torch"));  // a reproducible init
    out.model = build_model(registry, config.model, data::text_spec(config.data, tokenizer.get()));
    apply_model_transforms(registry, *out.model, config);
  }
  if (!out.model->is_language_model()) {
    throw UserError(command + ": model " + out.config.model.name + " is not a language model (gpt-* models are)");
  }
  out.tokenizer = std::move(tokenizer);
  if (out.config.trainer.threads > 0) torch::set_num_threads(static_cast<int>(out.config.trainer.threads));
  if (out.config.trainer.device == DeviceChoice::cuda && !compat::cuda_available()) {
    throw UserError(command + ": trainer.device is cuda, but this machine has no CUDA device (--set "
                    "trainer.device=auto runs on the CPU here)");
  }
  out.model->to(training::pick_device(out.config.trainer.device));
  out.model->eval();
  return out;
}

}  // namespace stratum
