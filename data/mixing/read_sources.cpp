#include "data/mixing/read_sources.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <set>

#include "core/error.h"
#include "core/log.h"
#include "core/text.h"
#include "data/manifest.h"
#include "data/redaction/redactor.h"
#include "data/mixing/concat_store.h"
#include "data/mixing/mix_shares.h"
#include "data/splits/assemble.h"

namespace stratum::data {
namespace {

std::string entry_key(size_t i) { return "data.sources[" + std::to_string(i) + "]"; }

// A source's error restated for its entry: "data.path: ..." becomes "data.sources[1].path:
// ..." for the keys an entry sets (the others are the data section's), and names the source.
std::string for_entry(const std::string& message, size_t i, const std::string& name) {
  for (const char* key : {"path", "source", "max_records", "unseen", "synthetic", "text", "weak_labels"}) {
    const std::string prefix = std::string("data.") + key;
    if (message.rfind(prefix, 0) == 0 && message.size() > prefix.size() &&
        (message[prefix.size()] == ':' || message[prefix.size()] == '.')) {
      return entry_key(i) + message.substr(4) + " (source " + name + ")";
    }
  }
  return entry_key(i) + " (" + name + "): " + message;
}

std::string describe_shape(const DataSpec& spec) {
  std::string shape;
  for (int64_t d : spec.input_shape) shape += (shape.empty() ? "" : "x") + std::to_string(d);
  const char* kind = spec.kind == InputKind::images ? "images" : spec.kind == InputKind::features ? "features" : "tokens";
  return shape + " " + kind;
}

// The sources' examples must be interchangeable: same kind, shape and token vocabulary.
void check_compatible(const std::vector<SplitData>& parts, const DataOptions& options) {
  const DataSpec& first = parts[0].spec;
  for (size_t i = 0; i < parts.size(); ++i) {
    const DataSpec& spec = parts[i].spec;
    const std::string who = entry_key(i) + " (" + options.sources[i].name + ")";
    if (parts[i].seen.store && spec.kind != InputKind::images) {
      throw UserError(who + ": " + options.sources[i].source +
                      " examples are read from disk on demand and cannot be mixed yet; list one token_shards folder");
    }
    if (spec.kind != first.kind || spec.input_shape != first.input_shape) {
      throw UserError(who + ": its examples are " + describe_shape(spec) + ", " + entry_key(0) + "'s are " +
                      describe_shape(first) + ": the sources of a mix must give examples of one shape" +
                      (spec.kind == InputKind::tokens ? " (data.sources[].text.max_length)" : ""));
    }
    if (spec.vocab_size != first.vocab_size || spec.pad_token != first.pad_token) {
      throw UserError(who + ": its token vocabulary differs from " + entry_key(0) + "'s");
    }
  }
}

// The union of the sources' class names, in order of first appearance, and each source's
// old id -> new id table.
std::vector<std::string> merge_labels(const std::vector<SplitData>& parts, std::vector<std::vector<int64_t>>& remap) {
  std::vector<std::string> names;
  for (const SplitData& part : parts) {
    std::vector<int64_t> table;
    for (const std::string& name : part.spec.class_names) {
      auto it = std::find(names.begin(), names.end(), name);
      if (it == names.end()) it = names.insert(names.end(), name);
      table.push_back(it - names.begin());
    }
    remap.push_back(std::move(table));
  }
  return names;
}

torch::Tensor remap_targets(const torch::Tensor& targets, const std::vector<int64_t>& table) {
  if (!targets.defined() || targets.numel() == 0 || table.empty()) return targets;
  torch::Tensor out = targets.clone();
  auto* ids = out.data_ptr<int64_t>();
  for (int64_t i = 0; i < out.numel(); ++i) {
    if (ids[i] >= 0 && ids[i] < static_cast<int64_t>(table.size())) ids[i] = table[static_cast<size_t>(ids[i])];
  }
  return out;
}

// How one source's examples become the mix's: restandardization and class ids.
struct PartMapping {
  torch::Tensor scale, shift, class_map;
};

// Inputs standardized with each source's own seen statistics, restated with the mixture's:
// mean and variance of the sources' seen inputs weighted by share (what training draws).
// Examples held in tensors are rewritten; for those made on demand (a store) the returned
// scale and shift say how.
void restandardize(std::vector<SplitData>& parts, const std::vector<double>& shares, DataSpec& spec,
                   std::vector<PartMapping>& mappings) {
  if (spec.kind == InputKind::tokens || parts[0].spec.input_mean.empty()) return;
  const size_t width = parts[0].spec.input_mean.size();
  std::vector<double> mean(width, 0), var(width, 0);
  double total = 0;
  for (size_t s = 0; s < parts.size(); ++s) total += shares[s];
  const auto weight = [&](size_t s) { return total > 0 ? shares[s] / total : 1.0 / static_cast<double>(parts.size()); };
  for (size_t s = 0; s < parts.size(); ++s) {
    for (size_t f = 0; f < width; ++f) mean[f] += weight(s) * parts[s].spec.input_mean[f];
  }
  for (size_t s = 0; s < parts.size(); ++s) {
    for (size_t f = 0; f < width; ++f) {
      const double d = parts[s].spec.input_mean[f] - mean[f];
      const double sd = parts[s].spec.input_std[f];
      var[f] += weight(s) * (sd * sd + d * d);
    }
  }
  spec.input_mean.assign(width, 0);
  spec.input_std.assign(width, 0);
  for (size_t f = 0; f < width; ++f) {
    spec.input_mean[f] = static_cast<float>(mean[f]);
    spec.input_std[f] = static_cast<float>(std::max(std::sqrt(var[f]), 1e-6));
  }
  const torch::Tensor new_mean = torch::tensor(spec.input_mean), new_std = torch::tensor(spec.input_std);
  for (size_t s = 0; s < parts.size(); ++s) {
    SplitData& part = parts[s];
    // x was (raw - m) / sd; raw = x sd + m; the mixture's x' = (raw - M) / S = x a + b.
    torch::Tensor a = torch::tensor(part.spec.input_std) / new_std;
    torch::Tensor b = (torch::tensor(part.spec.input_mean) - new_mean) / new_std;
    if (spec.kind == InputKind::images) a = a.view({-1, 1, 1}), b = b.view({-1, 1, 1});  // per channel of (C, H, W)
    mappings[s].scale = a, mappings[s].shift = b;
    for (TensorDataset* d : {&part.seen, &part.validation, &part.unseen}) {
      if (!d->inputs.defined() || d->size() == 0) continue;
      d->inputs = d->inputs * a + b;
    }
  }
}

// One split of the mix: the sources' examples one after another, in tensors, or behind a
// ConcatStore when any source makes its examples on demand.
TensorDataset concatenate(const std::vector<TensorDataset*>& pieces, const std::vector<uint32_t>& file_offsets,
                          const std::vector<PartMapping>& mappings) {
  std::vector<torch::Tensor> inputs, targets;
  TensorDataset out;
  const bool stored = std::any_of(pieces.begin(), pieces.end(), [](const TensorDataset* d) { return d->store != nullptr; });
  std::vector<ConcatStore::Part> parts;
  for (size_t s = 0; s < pieces.size(); ++s) {
    const TensorDataset& d = *pieces[s];
    if (stored) {
      // Tensors were restandardized and their targets remapped already; a store's examples are made later.
      parts.push_back({d, d.store ? mappings[s].scale : torch::Tensor(), d.store ? mappings[s].shift : torch::Tensor(),
                       d.store ? mappings[s].class_map : torch::Tensor()});
      if (d.targets.defined()) targets.push_back(d.targets);
    } else if (d.inputs.defined()) {
      inputs.push_back(d.inputs);
      targets.push_back(d.targets);
    }
    for (Provenance origin : d.origins) {
      origin.source += file_offsets[s];  // an index into the mix's list of files
      out.origins.push_back(origin);
    }
    out.times.insert(out.times.end(), d.times.begin(), d.times.end());
    out.fields.insert(out.fields.end(), d.fields.begin(), d.fields.end());
  }
  if (stored) {
    out.store = std::make_shared<ConcatStore>(std::move(parts));
    if (!targets.empty()) out.targets = torch::cat(targets);  // for counting labels
  } else if (!inputs.empty()) {
    out.inputs = torch::cat(inputs), out.targets = torch::cat(targets);
  }
  return out;
}

// The sources' pipeline states side by side, each under its name: a resumed run must rebuild
// every one byte for byte.
std::string joined_states(const std::vector<SplitData>& parts, const DataOptions& options) {
  std::string out = "STRATUM-MIX-STATE 1\n";
  for (size_t s = 0; s < parts.size(); ++s) {
    out += options.sources[s].name + "\n" + std::to_string(parts[s].pipeline_state.size()) + "\n";
    out += parts[s].pipeline_state;
  }
  return out;
}

// Per-label sizes remapped to the mix's ids and added to `base`.
std::vector<int64_t> add_remapped(std::vector<int64_t> base, const std::vector<int64_t>& sizes,
                                  const std::vector<int64_t>& table) {
  for (size_t i = 0; i < sizes.size(); ++i) {
    const auto id = static_cast<size_t>(i < table.size() ? table[i] : static_cast<int64_t>(i));
    if (id >= base.size()) base.resize(id + 1, 0);
    base[id] += sizes[i];
  }
  return base;
}

// The per-source section of the manifest: settings, target share, what the source read and kept.
nlohmann::ordered_json source_section(const SourceOptions& entry, double share, int64_t planned, int64_t first_epoch,
                                      const SplitData& part) {
  const auto manifest = nlohmann::ordered_json::parse(part.manifest, nullptr, false);
  nlohmann::ordered_json out;
  out["name"] = entry.name;
  out["source"] = entry.source;
  out["path"] = entry.path;
  out["weight"] = entry.weight;
  out["min_share"] = entry.min_share;
  out["max_share"] = entry.max_share;
  out["target_share"] = share;
  out["first_epoch_share"] = first_epoch > 0 ? static_cast<double>(planned) / static_cast<double>(first_epoch) : 0.0;
  out["examples"] = {{"seen", part.seen.size()}, {"validation", part.validation.size()}, {"unseen", part.unseen.size()}};
  out["records_read"] = part.records_read;
  out["records_accepted"] = part.records_accepted;
  out["records_rejected"] = part.records_rejected;
  out["unseen"] = part.unseen_description;
  if (!manifest.is_discarded()) {
    out["files"] = manifest["files"];
    // Counts by label name: the ids are the source's own.
    nlohmann::ordered_json counts;
    for (const auto& [split, per_label] : part.label_counts) {
      nlohmann::ordered_json named;
      for (size_t i = 0; i < per_label.size() && i < part.spec.class_names.size(); ++i) {
        named[part.spec.class_names[i]] = per_label[i];
      }
      counts[split] = named;
    }
    out["label_counts"] = counts;
    out["reservoir"] = manifest["reservoir"];
    if (manifest.contains("redaction")) out["redaction"] = manifest["redaction"];
  }
  out["drift_events"] = part.drift_events.size();
  return out;
}

SplitData combine(std::vector<SplitData> parts, const std::vector<double>& shares, const DataOptions& options,
                  const DataContext& context) {
  check_compatible(parts, options);
  std::vector<std::vector<int64_t>> remap;
  SplitData out;
  out.spec = parts[0].spec;
  out.spec.class_names = merge_labels(parts, remap);
  out.spec.num_classes = parts[0].spec.num_classes > 0 ? static_cast<int64_t>(out.spec.class_names.size()) : 0;
  std::vector<PartMapping> mappings(parts.size());
  restandardize(parts, shares, out.spec, mappings);

  std::vector<uint32_t> file_offsets;
  std::vector<TensorDataset*> seen, validation, unseen;
  std::vector<std::string> unseen_descriptions;
  int64_t record_offset = 0;
  std::vector<int64_t> history_base;
  for (size_t s = 0; s < parts.size(); ++s) {
    SplitData& part = parts[s];
    const std::string& name = options.sources[s].name;
    file_offsets.push_back(static_cast<uint32_t>(out.files.size()));
    for (SourceFile file : part.files) {
      file.role = name + "/" + file.role;
      file.source = name;
      out.files.push_back(std::move(file));
    }
    for (TensorDataset* d : {&part.seen, &part.validation, &part.unseen}) d->targets = remap_targets(d->targets, remap[s]);
    if (!remap[s].empty()) mappings[s].class_map = torch::tensor(remap[s], torch::kInt64);
    const int64_t begin = out.mix.empty() ? 0 : out.mix.back().end;
    out.mix.push_back({name, begin, begin + part.seen.size(), shares[s]});
    seen.push_back(&part.seen), validation.push_back(&part.validation), unseen.push_back(&part.unseen);
    unseen_descriptions.push_back(name + ": " + part.unseen_description);

    out.sampler.offered += part.sampler.offered;
    out.sampler.entered += part.sampler.entered;
    out.sampler.duplicates += part.sampler.duplicates;
    out.sampler.evicted += part.sampler.evicted;
    out.sampler.rebalances += part.sampler.rebalances;
    for (DriftEvent e : part.drift_events) {
      e.subject = name + ": " + e.subject;
      e.record += record_offset;
      out.drift_events.push_back(std::move(e));
    }
    // The sources are read one after another: their streams follow each other in the history.
    for (DriftWindow w : part.drift_windows) {
      w.end_record += record_offset;
      w.label_counts = add_remapped({}, w.label_counts, remap[s]);
      out.drift_windows.push_back(std::move(w));
    }
    std::vector<int64_t> last = history_base;
    for (ReservoirSnapshot snapshot : part.reservoir_history) {
      snapshot.record += record_offset;
      last = snapshot.sizes = add_remapped(history_base, snapshot.sizes, remap[s]);
      out.reservoir_history.push_back(std::move(snapshot));
    }
    history_base = last;
    record_offset += part.records_read;
    out.records_read += part.records_read;
    out.records_accepted += part.records_accepted;
    out.records_rejected += part.records_rejected;
    out.blank_lines += part.blank_lines;
    out.redaction.add(part.redaction);
    for (const auto& [pair, count] : part.cooccurrence) {
      const auto id = [&](int32_t old) {
        return static_cast<int32_t>(static_cast<size_t>(old) < remap[s].size() ? remap[s][static_cast<size_t>(old)] : old);
      };
      out.cooccurrence[{id(pair.first), id(pair.second)}] += count;
    }
  }
  out.seen = concatenate(seen, file_offsets, mappings);
  out.validation = concatenate(validation, file_offsets, mappings);
  out.unseen = concatenate(unseen, file_offsets, mappings);
  out.unseen_description = join(unseen_descriptions, "; ");
  out.pipeline_state = joined_states(parts, options);
  for (const auto& [name, split] : {std::pair<std::string, const TensorDataset*>{"seen", &out.seen},
                                    {"validation", &out.validation},
                                    {"unseen", &out.unseen}}) {
    out.label_counts[name] = count_labels(split->targets, out.spec.num_classes);
  }

  DataOptions described = options;
  described.source = "mix";
  auto manifest = nlohmann::ordered_json::parse(manifest_json(out, described, context.seed));
  const std::vector<int64_t> planned = planned_draws(out.mix, context.seed, out.seen.size());
  manifest["sources"] = nlohmann::ordered_json::array();
  for (size_t s = 0; s < parts.size(); ++s) {
    manifest["sources"].push_back(source_section(options.sources[s], shares[s], planned[s], out.seen.size(), parts[s]));
  }
  out.manifest = manifest.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";

  for (size_t s = 0; s < parts.size(); ++s) {
    const MixComponent& m = out.mix[s];
    const int64_t rows = m.end - m.begin;
    log::info("data: source " + m.name + ": share " + format_number(m.share) + " of training examples, " +
              std::to_string(rows) + " seen (" + std::to_string(parts[s].validation.size()) + " validation, " +
              std::to_string(parts[s].unseen.size()) + " unseen)");
    // A source drawn more often per epoch than it has examples repeats them: say so once.
    const double per_epoch = m.share * static_cast<double>(out.seen.size());
    if (rows > 0 && per_epoch > 1.5 * static_cast<double>(rows)) {
      log::warn("data: source " + m.name + " has " + std::to_string(rows) + " seen examples for " +
                format_number(std::round(per_epoch)) + " draws per epoch at share " + format_number(m.share) +
                ": each repeats about " + format_number(std::round(per_epoch / static_cast<double>(rows))) +
                " times per epoch (metrics: mix/" + m.name + "/passes)");
    }
  }
  return out;
}

}  // namespace

std::vector<int64_t> planned_draws(const std::vector<MixComponent>& mix, uint64_t seed, int64_t examples) {
  std::vector<double> shares;
  for (const MixComponent& m : mix) shares.push_back(m.share);
  MixSchedule schedule(shares, seed);
  for (int64_t i = 0; i < examples; ++i) schedule.next();
  return schedule.counts();
}

SplitData read_sources(const SourceRegistry& registry, const DataOptions& options, const DataContext& context) {
  // The policy is checked (patterns compiled, the hash key found) before any source opens.
  Redactor{options.redact};
  if (options.sources.empty()) {
    const SourceEntry* entry = registry.find(options.source);
    if (!entry) throw UserError("data.source: " + registry.unknown_message(options.source));
    return entry->build(options, context);
  }
  std::set<std::string> names;
  for (size_t i = 0; i < options.sources.size(); ++i) {
    const SourceOptions& entry = options.sources[i];
    if (entry.name.empty()) throw UserError(entry_key(i) + ".name: empty (a source needs a name for logs and the manifest)");
    if (!names.insert(entry.name).second) throw UserError(entry_key(i) + ".name: \"" + entry.name + "\" names two sources");
    if (!registry.find(entry.source)) throw UserError(entry_key(i) + ".source: " + registry.unknown_message(entry.source));
  }
  const std::vector<double> shares = resolve_mix_shares(options.sources);
  std::vector<SplitData> parts;
  for (size_t i = 0; i < options.sources.size(); ++i) {
    const SourceOptions& entry = options.sources[i];
    DataContext part_context = context;
    part_context.append_rejects = context.append_rejects || i > 0;  // one rejects.jsonl for the mix
    try {
      parts.push_back(registry.find(entry.source)->build(options.for_source(entry), part_context));
    } catch (const UserError& e) {
      throw UserError(for_entry(e.what(), i, entry.name));
    }
    if (parts.back().seen.size() == 0 && shares[i] > 0) {
      throw UserError(entry_key(i) + " (" + entry.name + "): no training examples (its share is " +
                      format_number(shares[i]) + ")");
    }
  }
  return combine(std::move(parts), shares, options, context);
}

}  // namespace stratum::data
