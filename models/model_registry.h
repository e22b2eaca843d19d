#pragma once
// What a model registration says: how to build the model for data of a given shape, and how
// big it would be. Built-ins register in models/builtin_models.cpp, plugins through the same type.

#include <cstdint>
#include <functional>
#include <string>

#include "core/data_spec.h"
#include "core/named_registry.h"
#include "models/model.h"
#include "models/model_options.h"

namespace stratum::models {

/// Builds a model for data of the given shape.
struct ModelEntry {
  std::string name;
  std::string description;
  std::function<ModelPtr(const ModelOptions&, const data::DataSpec&)> build;
  data::DataSpec reference_spec;  ///< the data shape `stratum info` sizes the model for
  ModelOptions reference_options; ///< the options `stratum info` sizes the model with
  /// Parameters the model would have, without building it (optional: large models set it so
  /// `stratum info` stays fast; without it, info builds the model and counts).
  std::function<int64_t(const ModelOptions&, const data::DataSpec&)> parameter_count;
};

/// The models that can be named in `model.name`.
using ModelRegistry = NamedRegistry<ModelEntry>;

/// The configured model for data shaped as `spec`, with `options.init_from`'s reference-layout
/// weights loaded when set.
ModelPtr build_model(const ModelRegistry& registry, const ModelOptions& options, const data::DataSpec& spec);

}  // namespace stratum::models
