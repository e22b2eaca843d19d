#include "engine/slices/slice_evaluation.h"

#include <torch/torch.h>

#include <cmath>
#include <cstdio>
#include <numeric>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/text.h"
#include "data/split_data.h"

namespace stratum {
namespace {

// A seed per (run seed, split, slice name): the same run and slice give the same intervals,
// wherever the slice stands in the list.
uint64_t slice_seed(uint64_t seed, const std::string& split, const std::string& slice) {
  uint64_t h = 1469598103934665603ull ^ (seed * 0x9E3779B97F4A7C15ull);
  for (const char c : split + '\n' + slice) h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ull;
  return h;
}

nlohmann::ordered_json number(double v) { return std::isfinite(v) ? nlohmann::ordered_json(v) : nlohmann::ordered_json(); }

nlohmann::ordered_json interval(const std::pair<double, double>& i, int64_t resamples) {
  if (resamples <= 0) return nullptr;
  return nlohmann::ordered_json::array({number(i.first), number(i.second)});
}

}  // namespace

std::string fixed4(double v) {
  char text[32];
  std::snprintf(text, sizeof text, "%.4f", v);
  return text;
}

std::string SliceAlert::describe() const {
  std::string why;
  if (max_gap > 0 && difference > max_gap) {
    why = "gap " + fixed4(difference) + " (95% interval " + fixed4(difference_interval.first) + " to " +
          fixed4(difference_interval.second) + ") exceeds eval.slice_alerts.max_gap " + format_number(max_gap);
  } else {
    why = "ratio " + fixed4(ratio) + " is below eval.slice_alerts.min_ratio " + format_number(min_ratio);
  }
  return "slice alert: " + split + " split, slices by " + slice + ": " + metric + " of " + worst + " vs " + best + ": " + why;
}

SliceFacts slice_facts(const data::SplitData& data, const data::TensorDataset& split, const RunConfig& config) {
  SliceFacts facts;
  facts.dataset = &split;
  facts.class_names = data.spec.class_names;
  for (const data::SourceFile& file : data.files) facts.source_names.push_back(file.source.empty() ? file.path : file.source);
  facts.fields = slice_fields(config.eval.slices);
  if (data.spec.kind == data::InputKind::features) {
    facts.feature_mean = data.spec.input_mean;
    facts.feature_std = data.spec.input_std;
  }
  return facts;
}

std::vector<SliceEvaluation> evaluate_slices(const RunConfig& config, const SliceFacts& facts, const std::string& split,
                                             const ExampleOutcomes& outcomes) {
  const EvalOptions& eval = config.eval;
  const SliceAlertOptions& alert = eval.slice_alerts;
  const bool alerting = !alert.metric.empty() &&
                        std::find(alert.splits.begin(), alert.splits.end(), split) != alert.splits.end();
  std::vector<SliceEvaluation> out;
  for (size_t i = 0; i < eval.slices.size(); ++i) {
    const SliceOptions& slice = eval.slices[i];
    SliceEvaluation e;
    e.name = slice_name(slice);
    e.by = slice.by;
    const SliceGroups groups =
        group_examples(slice, "eval.slices[" + std::to_string(i) + "]", facts, outcomes.example, eval.max_slices);
    e.result = score_slices(outcomes, groups.group_of, groups.names, eval.min_slice_size, eval.slice_bootstrap,
                            slice_seed(static_cast<uint64_t>(config.run.seed), split, e.name));
    for (const SliceDisparity& d : e.result.disparities) {
      if (!alerting || d.metric != alert.metric || !d.available) continue;
      const bool gap = alert.max_gap > 0 && d.difference > alert.max_gap;
      const bool ratio = alert.min_ratio > 0 && !std::isnan(d.ratio) && d.ratio < alert.min_ratio;
      if (!gap && !ratio) continue;
      e.alerts.push_back({split, e.name, d.metric, d.worst, d.best, d.difference, d.ratio, d.difference_interval,
                          alert.max_gap, alert.min_ratio});
    }
    out.push_back(std::move(e));
  }
  return out;
}

void check_slices_against_data(const RunConfig& config, const data::SplitData& data) {
  const std::vector<SliceOptions>& slices = config.eval.slices;
  if (slices.empty()) return;
  const std::vector<std::string> fields = slice_fields(slices);
  std::vector<int64_t> carried(fields.size(), 0);
  for (const data::TensorDataset* split : {&data.seen, &data.validation, &data.unseen}) {
    for (const auto& values : split->fields) {
      for (size_t f = 0; f < fields.size() && f < values.size(); ++f) carried[f] += !values[f].empty();
    }
  }
  for (size_t f = 0; f < fields.size(); ++f) {
    if (carried[f] > 0) continue;
    for (size_t i = 0; i < slices.size(); ++i) {
      if (std::find(slices[i].by.begin(), slices[i].by.end(), fields[f]) == slices[i].by.end()) continue;
      config.fail("eval.slices[" + std::to_string(i) + "].by",
                  "no record carries the field \"" + fields[f] +
                      "\" (fields are read from the JSONL lines of text sources and the rows of image lists)");
    }
  }
  for (const data::TensorDataset* split : {&data.seen, &data.validation, &data.unseen}) {
    if (split->size() == 0) continue;
    std::vector<int64_t> all(static_cast<size_t>(split->size()));
    std::iota(all.begin(), all.end(), 0);
    const SliceFacts facts = slice_facts(data, *split, config);
    for (size_t i = 0; i < slices.size(); ++i) {
      group_examples(slices[i], "eval.slices[" + std::to_string(i) + "]", facts, all, config.eval.max_slices);
    }
  }
}

std::string slices_json(const std::vector<SliceEvaluation>& slices) {
  nlohmann::ordered_json out = nlohmann::ordered_json::array();
  for (const SliceEvaluation& e : slices) {
    nlohmann::ordered_json j;
    j["name"] = e.name;
    j["by"] = e.by;
    j["resamples"] = e.result.resamples;
    std::vector<std::string> metric_names;
    for (const SliceDisparity& d : e.result.disparities) metric_names.push_back(d.metric);
    j["groups"] = nlohmann::ordered_json::array();
    for (const SliceGroupResult& g : e.result.groups) {
      nlohmann::ordered_json row;
      row["slice"] = g.name;
      row["count"] = g.scores.count;
      if (g.scores.tokens > 0) row["tokens"] = g.scores.tokens;
      row["ranked"] = g.ranked;
      for (size_t m = 0; m < metric_names.size(); ++m) {
        row[metric_names[m]] = number(slice_metric(g.scores, metric_names[m]));
        row[metric_names[m] + "_ci95"] = interval(g.intervals[m], e.result.resamples);
      }
      j["groups"].push_back(row);
    }
    nlohmann::ordered_json disparity = nlohmann::ordered_json::object();
    for (const SliceDisparity& d : e.result.disparities) {
      if (!d.available) continue;
      disparity[d.metric] = {{"difference", number(d.difference)},
                             {"difference_ci95", interval(d.difference_interval, e.result.resamples)},
                             {"ratio", number(d.ratio)},
                             {"ratio_ci95", interval(d.ratio_interval, e.result.resamples)},
                             {"worst", d.worst},
                             {"worst_value", number(d.worst_value)},
                             {"worst_ci95", interval(d.worst_interval, e.result.resamples)},
                             {"best", d.best},
                             {"best_value", number(d.best_value)}};
    }
    j["disparity"] = disparity;
    j["alerts"] = nlohmann::ordered_json::array();
    for (const SliceAlert& a : e.alerts) {
      j["alerts"].push_back({{"metric", a.metric},
                             {"worst", a.worst},
                             {"best", a.best},
                             {"difference", number(a.difference)},
                             {"difference_ci95", interval(a.difference_interval, e.result.resamples)},
                             {"ratio", number(a.ratio)},
                             {"max_gap", a.max_gap},
                             {"min_ratio", a.min_ratio},
                             {"message", a.describe()}});
    }
    out.push_back(j);
  }
  return out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace stratum
