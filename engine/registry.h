#pragma once
// Everything a config can name: models, data sources and model transforms, one registry per
// kind. Built-ins are added explicitly at start-up (engine/cli/main.cpp); plugins add theirs
// through the same calls (engine/plugin.h).

#include <string>

#include "adapters/transform_registry.h"
#include "engine/config.h"
#include "data/source_registry.h"
#include "models/model_registry.h"

namespace stratum {



// The entry types under the names plugins know them by.
using ModelEntry = models::ModelEntry;
using DataSourceEntry = data::SourceEntry;
using ModelTransformEntry = adapters::TransformEntry;

/// Everything that can be named in a config.
class Registry {
 public:
  models::ModelRegistry models{"model"};
  data::SourceRegistry data_sources{"data source"};
  adapters::TransformRegistry transforms{"model transform"};
};

/// The configured model for data shaped as `spec` (see models::build_model).
models::ModelPtr build_model(const Registry& registry, const models::ModelOptions& options, const data::DataSpec& spec);

/// What the transforms see of `config`: their own options and where each key was set.
adapters::TransformOptions transform_options(const RunConfig& config);

/// Applies every transform the config enables to `model`, in order, logging each summary.
void apply_model_transforms(const Registry& registry, models::Model& model, const RunConfig& config);

/// Lets every enabled transform write its artifact into `dir`.
void save_transform_artifacts(const Registry& registry, const models::Model& model, const RunConfig& config,
                              const std::string& dir);

}  // namespace stratum
