#include "core/registry.h"

#include <algorithm>

#include "core/error.h"
#include "core/log.h"
#include "core/reference_weights.h"
#include "core/text.h"

namespace stratum {

template <class Entry>
void NamedRegistry<Entry>::add(Entry entry) {
  const std::string name = entry.name;
  if (name.empty()) throw UserError("cannot register a " + kind_ + " without a name");
  if (!entries_.emplace(name, std::move(entry)).second) {
    throw UserError("a " + kind_ + " named \"" + name + "\" is already registered");
  }
}

template <class Entry>
const Entry* NamedRegistry<Entry>::find(const std::string& name) const {
  const auto it = entries_.find(name);
  return it == entries_.end() ? nullptr : &it->second;
}

template <class Entry>
std::vector<std::string> NamedRegistry<Entry>::names() const {
  std::vector<std::string> out;
  for (const auto& [name, entry] : entries_) out.push_back(name);
  return out;
}

template <class Entry>
std::string NamedRegistry<Entry>::unknown_message(const std::string& name) const {
  const std::vector<std::string> known = names();
  const std::string guess = nearest(name.substr(0, 64), known);
  std::string message = "unknown " + kind_ + " \"" + printable(name, 60) + "\"";
  if (!guess.empty()) message += " (did you mean " + guess + "?)";
  return message + "; registered: " + (known.empty() ? std::string("none") : join(known, ", "));
}

template class NamedRegistry<ModelEntry>;
template class NamedRegistry<DataSourceEntry>;
template class NamedRegistry<ModelTransformEntry>;

models::ModelPtr build_model(const Registry& registry, const ModelSection& options, const data::DataSpec& spec) {
  const ModelEntry* entry = registry.models.find(options.name);
  if (!entry) throw UserError("model.name: " + registry.models.unknown_message(options.name));
  models::ModelPtr model = entry->build(options, spec);
  if (!options.init_from.empty()) {
    load_reference_weights(*model, options.init_from);
    log::info("model: weights from " + options.init_from);
  }
  return model;
}

namespace {

std::vector<const ModelTransformEntry*> enabled_transforms(const Registry& registry, const RunConfig& config) {
  std::vector<const ModelTransformEntry*> out;
  for (const std::string& name : registry.transforms.names()) {
    const ModelTransformEntry* entry = registry.transforms.find(name);
    if (entry->enabled(config)) out.push_back(entry);
  }
  std::stable_sort(out.begin(), out.end(), [](auto* a, auto* b) { return a->order < b->order; });
  return out;
}

}  // namespace

void apply_model_transforms(const Registry& registry, models::Model& model, const RunConfig& config) {
  for (const ModelTransformEntry* entry : enabled_transforms(registry, config)) {
    log::info(entry->name + ": " + entry->apply(model, config));
  }
}

void save_transform_artifacts(const Registry& registry, const models::Model& model, const RunConfig& config,
                              const std::string& dir) {
  for (const ModelTransformEntry* entry : enabled_transforms(registry, config)) {
    if (entry->save_artifact) entry->save_artifact(model, dir);
  }
}

}  // namespace stratum
