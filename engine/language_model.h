#pragma once
// A language model to generate with or score with, outside training: a run's checkpoint (its
// own config, adapters and weights), or a config's model with reference-layout weights (or its
// seeded initialisation), with the tokenizer the config names, on the configured device.

#include <string>
#include <vector>

#include <memory>

#include "data/tokenizer/tokenizer.h"
#include "engine/config.h"
#include "models/model.h"

namespace stratum {

class Registry;

/// Where a language model comes from: `checkpoint`, or else `config_path` with `overrides` and
/// optional `weights`; `plugins` are loaded after the config's.
struct LanguageModelSource {
  std::string checkpoint;
  std::string config_path;
  std::vector<std::string> overrides;
  std::string weights;
  std::vector<std::string> plugins;
};

/// The model, its config and its tokenizer.
struct LanguageModel {
  RunConfig config;
  models::ModelPtr model;
  std::shared_ptr<const data::Tokenizer> tokenizer;  ///< data.tokenizer.path's (bytes when empty)
};

/// Loads it (UserErrors name the flag, file or key; `command` prefixes the usage errors) and
/// checks that it is a language model. A checkpoint's model runs on a GPU when there is one (its
/// trainer.device was the training machine's); a config's model where its trainer.device says.
LanguageModel load_language_model(const LanguageModelSource& source, Registry& registry, const std::string& command);

}  // namespace stratum
