#include "data/splits/assemble.h"

#include <torch/torch.h>

#include <cstring>
#include <sstream>

#include "core/error.h"
#include "core/log.h"
#include "data/manifest.h"

namespace stratum::data {
namespace {

// (N, *shape) inputs (float for images and features, int64 tokens: the tokenizer's ids, or
// bytes, padded with spec.pad_token) and (N) targets: the given labels, or each record's
// primary label.
TensorDataset collate(const std::vector<const Record*>& records, const DataSpec& spec,
                      const Tokenizer* tokenizer, const std::vector<int32_t>& targets = {}) {
  const std::vector<int64_t>& shape = spec.input_shape;
  const InputKind kind = spec.kind;
  const auto n = static_cast<int64_t>(records.size());
  std::vector<int64_t> sizes = {n};
  sizes.insert(sizes.end(), shape.begin(), shape.end());
  int64_t per_example = 1;
  for (int64_t d : shape) per_example *= d;
  torch::Tensor labels = torch::empty({n}, torch::kInt64);
  auto* ids = labels.data_ptr<int64_t>();
  torch::Tensor inputs;
  if (kind == InputKind::images) {
    inputs = torch::empty(sizes, torch::kUInt8);
    auto* pixels = inputs.data_ptr<uint8_t>();
    for (int64_t i = 0; i < n; ++i) {
      STRATUM_CHECK(static_cast<int64_t>(records[i]->payload.size()) == per_example, "image record of the wrong size");
      std::memcpy(pixels + i * per_example, records[i]->payload.data(), static_cast<size_t>(per_example));
    }
    inputs = inputs.to(torch::kFloat32) / 255.0;
  } else if (kind == InputKind::features) {
    inputs = torch::empty(sizes, torch::kFloat32);
    auto* values = inputs.data_ptr<float>();
    for (int64_t i = 0; i < n; ++i) {
      STRATUM_CHECK(static_cast<int64_t>(records[i]->features.size()) == per_example, "feature record of the wrong size");
      std::memcpy(values + i * per_example, records[i]->features.data(), static_cast<size_t>(per_example) * sizeof(float));
    }
  } else {
    inputs = torch::full(sizes, spec.pad_token, torch::kInt64);
    auto* tokens = inputs.data_ptr<int64_t>();
    for (int64_t i = 0; i < n; ++i) {
      const std::string& text = records[i]->payload;
      if (tokenizer) {
        const std::vector<int32_t> ids = tokenizer->encode(text);
        const int64_t length = std::min<int64_t>(per_example, static_cast<int64_t>(ids.size()));
        for (int64_t t = 0; t < length; ++t) tokens[i * per_example + t] = ids[static_cast<size_t>(t)];
      } else {
        const int64_t length = std::min<int64_t>(per_example, static_cast<int64_t>(text.size()));
        for (int64_t t = 0; t < length; ++t) tokens[i * per_example + t] = static_cast<unsigned char>(text[t]);
      }
    }
  }
  TensorDataset out{inputs, labels};
  for (int64_t i = 0; i < n; ++i) {
    ids[i] = !targets.empty() ? targets[i] : records[i]->labels.empty() ? -1 : records[i]->labels[0];
    out.add_record_facts(*records[i]);
  }
  return out;
}

// Standardizes `d` in place with the spec's statistics (images: scalar; features: per feature).
void standardize(TensorDataset& d, const DataSpec& spec) {
  if (spec.input_mean.empty() || !d.inputs.defined() || d.size() == 0) return;
  torch::Tensor mean = torch::tensor(spec.input_mean), stddev = torch::tensor(spec.input_std);
  if (spec.kind == InputKind::images) mean = mean.squeeze(), stddev = stddev.squeeze();
  d.inputs = (d.inputs - mean) / stddev;
}


std::vector<const Record*> pointers(const std::vector<Record>& records) {
  std::vector<const Record*> out;
  for (const Record& r : records) out.push_back(&r);
  return out;
}

}  // namespace

std::vector<int64_t> count_labels(const torch::Tensor& targets, int64_t classes) {
  std::vector<int64_t> counts(static_cast<size_t>(classes), 0);
  if (!targets.defined()) return counts;
  const auto* ids = targets.data_ptr<int64_t>();
  for (int64_t i = 0; i < targets.size(0); ++i) {
    if (ids[i] >= 0 && ids[i] < classes) ++counts[static_cast<size_t>(ids[i])];
  }
  return counts;
}

TensorDataset collate_records(const std::vector<const Record*>& records, const DataSpec& spec,
                              const Tokenizer* tokenizer, const std::vector<int32_t>& targets) {
  TensorDataset d = collate(records, spec, tokenizer, targets);
  standardize(d, spec);
  return d;
}

void learn_standardization(TensorDataset& seen, DataSpec& spec) {
  if (spec.kind == InputKind::tokens) return;
  torch::Tensor mean, stddev;
  if (spec.kind == InputKind::images) {
    mean = seen.inputs.mean().reshape({1});
    stddev = seen.inputs.std().clamp_min(1e-6).reshape({1});
  } else {
    mean = seen.inputs.mean(0);
    stddev = seen.inputs.size(0) > 1 ? seen.inputs.std(0).clamp_min(1e-6) : torch::ones_like(mean);
  }
  spec.input_mean.assign(mean.data_ptr<float>(), mean.data_ptr<float>() + mean.numel());
  spec.input_std.assign(stddev.data_ptr<float>(), stddev.data_ptr<float>() + stddev.numel());
  standardize(seen, spec);
}

SplitData assemble_splits(const StreamSplitter& splitter, SourceFacts facts, const DataOptions& options,
                          const DataContext& context) {
  // A record kept by several reservoirs (multi_label: split) trains once per reservoir, as
  // that reservoir's label.
  std::vector<const Record*> seen_records;
  std::vector<int32_t> seen_targets;
  const StratifiedReservoir& reservoir = splitter.reservoir();
  for (int32_t label : reservoir.labels()) {
    for (const Record& r : reservoir.reservoir(label).items()) {
      seen_records.push_back(&r);
      seen_targets.push_back(label);
    }
  }
  STRATUM_USER_CHECK(!seen_records.empty(), "data: the seen (training) split is empty: no record reached the "
                                            "reservoirs (check data.unseen, data.validation_fraction and max_records)");
  std::vector<const Record*> unseen_records = pointers(splitter.unseen());
  unseen_records.insert(unseen_records.end(), facts.held_out_file.begin(), facts.held_out_file.end());

  const InputKind kind = facts.spec.kind;
  const Tokenizer* tokenizer = facts.tokenizer.get();
  const auto make = [&](const std::vector<const Record*>& records, const std::vector<int32_t>& targets, bool is_seen) {
    return facts.collate ? facts.collate(records, targets, facts.spec, is_seen) : collate(records, facts.spec, tokenizer, targets);
  };
  TensorDataset seen = make(seen_records, seen_targets, true);
  TensorDataset validation = make(pointers(splitter.validation()), {}, false);
  TensorDataset unseen = make(unseen_records, {}, false);
  if (context.seen_text && kind == InputKind::tokens) {
    for (const Record* r : seen_records) context.seen_text->push_back(r->payload);
  }

  // Standardization statistics come from the seen split only, so nothing leaks from held-out data.
  if (kind != InputKind::tokens && !facts.collate) {
    learn_standardization(seen, facts.spec);
    for (TensorDataset* d : {&validation, &unseen}) standardize(*d, facts.spec);
  }

  SplitData data;
  data.spec = std::move(facts.spec);
  data.seen = seen;
  data.validation = validation;
  data.unseen = unseen;
  data.unseen_description = std::move(facts.unseen_description);
  data.files = std::move(facts.files);
  data.sampler = reservoir.stats();
  data.drift_events = splitter.drift().events();
  data.drift_windows = splitter.drift().windows();
  data.reservoir_history = splitter.history();
  {
    std::ostringstream state;
    splitter.save(state);
    data.pipeline_state = state.str();
  }
  data.records_accepted = splitter.records_accepted() + static_cast<int64_t>(facts.held_out_file.size());
  data.records_rejected = facts.records_rejected;
  data.records_read = data.records_accepted + data.records_rejected;
  data.blank_lines = facts.blank_lines;
  data.redaction = facts.redaction;
  data.cooccurrence = reservoir.cooccurrence();
  for (const auto& [name, split] : {std::pair<std::string, const TensorDataset*>{"seen", &data.seen},
                                    {"validation", &data.validation},
                                    {"unseen", &data.unseen}}) {
    data.label_counts[name] = count_labels(split->targets, data.spec.num_classes);
  }
  data.manifest = manifest_json(data, options, context.seed);
  const std::string shard = context.world_size > 1 ? " (stream shard " + std::to_string(context.rank) + " of " +
                                                        std::to_string(context.world_size) + ")"
                                                  : std::string();
  log::info("data: read " + std::to_string(data.records_read) + " records" + shard + " (" +
            std::to_string(data.records_rejected) + " rejected); seen " +
            std::to_string(data.seen.size()) + " kept by the reservoirs, validation " +
            std::to_string(data.validation.size()) + ", unseen " + std::to_string(data.unseen.size()) + " (" +
            data.unseen_description + ")");
  return data;
}

}  // namespace stratum::data
