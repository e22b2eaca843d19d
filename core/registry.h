#pragma once
// Named registries of models and data sources. Built-ins are added explicitly at start-up
// (see core/cli/main.cpp); plugins add theirs through the same calls.

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "core/config.h"
#include "data/split_data.h"
#include "models/model.h"

namespace stratum {

/// Builds a model for data of the given shape.
struct ModelEntry {
  std::string name;
  std::string description;
  std::function<models::ModelPtr(const ModelSection&, const data::DataSpec&)> build;
  data::DataSpec reference_spec;  ///< the data shape `stratum info` sizes the model for
  ModelSection reference_options; ///< the options `stratum info` sizes the model with
  /// Parameters the model would have, without building it (optional: large models set it so
  /// `stratum info` stays fast; without it, info builds the model and counts).
  std::function<int64_t(const ModelSection&, const data::DataSpec&)> parameter_count;
};

/// Reads a data source into the three splits.
struct DataSourceEntry {
  std::string name;
  std::string description;
  std::function<data::SplitData(const DataSection&, const data::DataContext&)> build;
};

/// A transform applied to a built model before training or loading a checkpoint (adapters,
/// quantization, ...). Enabled transforms run in ascending `order`, always the same order.
struct ModelTransformEntry {
  std::string name;
  std::string description;
  int order = 0;
  std::function<bool(const RunConfig&)> enabled;
  /// Applies the transform; returns a one-line summary for the log.
  std::function<std::string(models::Model&, const RunConfig&)> apply;
  /// Optional: writes the transform's own small artifact (e.g. adapter weights) into `dir`.
  std::function<void(const models::Model&, const std::string& dir)> save_artifact;
};

/// Entries of one kind, by unique name.
template <class Entry>
class NamedRegistry {
 public:
  explicit NamedRegistry(std::string kind) : kind_(std::move(kind)) {}

  /// Adds an entry; a second entry with the same name is a UserError (two plugins clash).
  void add(Entry entry);

  /// The entry called `name`, or nullptr.
  const Entry* find(const std::string& name) const;

  /// Names in sorted order.
  std::vector<std::string> names() const;

  /// "unknown model "x" (did you mean y?); registered: a, b" for error messages.
  std::string unknown_message(const std::string& name) const;

 private:
  std::string kind_;
  std::map<std::string, Entry> entries_;
};

/// Everything that can be named in a config.
class Registry {
 public:
  NamedRegistry<ModelEntry> models{"model"};
  NamedRegistry<DataSourceEntry> data_sources{"data source"};
  NamedRegistry<ModelTransformEntry> transforms{"model transform"};
};

/// The configured model for data shaped as `spec`, with `options.init_from`'s reference-layout
/// weights loaded when set.
models::ModelPtr build_model(const Registry& registry, const ModelSection& options, const data::DataSpec& spec);

/// Applies every transform the config enables to `model`, in order, logging each summary.
void apply_model_transforms(const Registry& registry, models::Model& model, const RunConfig& config);

/// Lets every enabled transform write its artifact into `dir`.
void save_transform_artifacts(const Registry& registry, const models::Model& model, const RunConfig& config,
                              const std::string& dir);

extern template class NamedRegistry<ModelEntry>;
extern template class NamedRegistry<ModelTransformEntry>;
extern template class NamedRegistry<DataSourceEntry>;

}  // namespace stratum
