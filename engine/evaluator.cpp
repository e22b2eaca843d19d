#include "engine/evaluator.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>
#include <nlohmann/json.hpp>

#include "core/energy_meter.h"
#include "engine/calibration.h"
#include "models/next_token_loss.h"
#include "engine/metrics_writer.h"
#include "core/text.h"

namespace stratum {
namespace {

double percentile(std::vector<double> values, double q) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const size_t index = static_cast<size_t>(q * static_cast<double>(values.size() - 1) + 0.5);
  return values[std::min(index, values.size() - 1)];
}

}  // namespace

SplitEvaluation evaluate_split(models::Model& model, const data::TensorDataset& dataset, const std::string& split,
                               int64_t num_classes, int64_t pad_token, const EvalOptions& options,
                               const torch::Device& device, Collectives* collectives, bool local_splits,
                               bool keep_outcomes) {
  SplitEvaluation result;
  result.split = split;
  result.language_model = model.is_language_model();
  // A language model's task has no classes (its data may have none at all: token shards).
  if (!result.language_model) result.confusion = ConfusionMatrix(num_classes);
  const int64_t rank = collectives ? collectives->rank() : 0;
  const int64_t world = collectives ? collectives->world_size() : 1;
  const bool own_split = collectives && local_splits;
  // With local splits each rank scores its share of the cap from its own split.
  const int64_t cap = options.max_samples <= 0 ? dataset.size() : own_split ? (options.max_samples + world - 1) / world
                                                                        : options.max_samples;
  const int64_t n = std::min(cap, dataset.size());
  std::vector<int64_t> rank_sizes{n};  // local: every rank's n, in rank order
  if (own_split) {
    torch::Tensor sizes = torch::zeros({world}, torch::kInt64);
    sizes[rank] = n;
    collectives->all_reduce_sum(sizes);
    rank_sizes.assign(sizes.data_ptr<int64_t>(), sizes.data_ptr<int64_t>() + world);
  }
  const int64_t total = std::accumulate(rank_sizes.begin(), rank_sizes.end(), int64_t{0});
  if (total == 0) return result;

  // A capped evaluation takes evenly spaced examples, so a split stored in label order (as
  // the reservoirs hand it over) is still represented class by class. Positions 0..n-1 index
  // those examples; a rank of a multi-process job scores positions rank, rank + world, ...
  // (or, with local splits, all of its own).
  torch::Tensor positions = own_split ? torch::arange(n, torch::kInt64) : torch::arange(rank, n, world, torch::kInt64);
  // Position p of `count` evenly spaced examples is example p · size / count.
  const auto spaced = [&](const torch::Tensor& at, int64_t count) {
    return count < dataset.size() ? at.mul(dataset.size()).div(count, /*rounding_mode=*/"floor") : at;
  };
  const torch::Tensor examples = spaced(positions, n);
  const int64_t local = positions.numel();
  const auto position = positions.accessor<int64_t, 1>();
  const bool was_training = model.is_training();
  model.eval();
  torch::NoGradGuard no_grad;
  const bool language_model = result.language_model;
  // Per-example outcomes for metrics by slice: every rank needs every example's, so they travel
  // with the per-example rows below. Sharded splits hold different examples per rank: no slices.
  const bool outcomes = (!options.slices.empty() || keep_outcomes) && !own_split;
  const auto counter = torch::TensorOptions().dtype(torch::kInt64).device(device);
  torch::Tensor loss_sum = torch::zeros({}, torch::TensorOptions().dtype(torch::kFloat64).device(device));
  torch::Tensor token_count = torch::zeros({}, counter), token_correct = torch::zeros({}, counter);
  std::vector<double> latencies_ms;
  // Per position (all n, so that ranks can add theirs up), one row per kind of figure.
  // Classifiers: max-softmax confidence, correctness, then with outcomes predicted class, target
  // and loss. Language models with outcomes: summed token loss, tokens scored, tokens right.
  enum Row { kConfidence = 0, kCorrect = 1, kPredicted = 2, kTarget = 3, kLoss = 4 };
  enum LmRow { kLmLoss = 0, kLmTokens = 1, kLmCorrect = 2 };
  const int64_t rows = language_model ? (outcomes ? 3 : 0) : (outcomes ? 5 : 2);
  std::vector<double> per_example(static_cast<size_t>(rows * n), 0.0);
  const auto put = [&](int64_t row, int64_t at, double value) { per_example[static_cast<size_t>(row * n + at)] = value; };
  const double start = monotonic_seconds();
  for (int64_t begin = 0; begin < local; begin += options.batch_size) {
    const double t0 = monotonic_seconds();
    const int64_t end = std::min(local, begin + options.batch_size);
    const data::Batch batch = dataset.gather(examples.slice(0, begin, end)).to(device);
    const torch::Tensor logits = model.forward(batch);
    if (language_model) {
      const torch::Tensor sequence = next_token_sequence(batch);
      const TokenLoss terms = next_token_loss_terms(logits, sequence, pad_token);
      loss_sum += terms.sum.to(torch::kFloat64);
      token_count += terms.count;
      token_correct += terms.correct;
      if (outcomes) {
        const TokenLoss each = next_token_loss_per_sequence(logits, sequence, pad_token);
        const torch::Tensor table =
            torch::stack({each.sum.to(torch::kFloat64), each.count.to(torch::kFloat64), each.correct.to(torch::kFloat64)})
                .to(torch::kCPU)
                .contiguous();
        const auto t = table.accessor<double, 2>();
        for (int64_t k = 0; k < end - begin; ++k) {
          for (int64_t r = 0; r < 3; ++r) put(r, position[begin + k], t[r][k]);
        }
      }
      latencies_ms.push_back((monotonic_seconds() - t0) * 1e3);
      continue;
    }
    loss_sum += classification_loss(logits, batch.targets, 0.0).to(torch::kFloat64) * batch.size();
    result.confusion.add(logits, batch.targets);
    const torch::Tensor probabilities = torch::softmax(logits.to(torch::kFloat32), 1);
    const auto [batch_confidence, predicted] = probabilities.max(1);
    std::vector<torch::Tensor> figures = {batch_confidence.to(torch::kFloat64),
                                          predicted.eq(batch.targets).to(torch::kFloat64)};
    if (outcomes) {
      figures.push_back(predicted.to(torch::kFloat64));
      figures.push_back(batch.targets.to(torch::kFloat64));
      figures.push_back(torch::nn::functional::cross_entropy(
                            logits.to(torch::kFloat32), batch.targets,
                            torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kNone))
                            .to(torch::kFloat64));
    }
    const torch::Tensor table = torch::stack(figures).to(torch::kCPU).contiguous();
    const auto t = table.accessor<double, 2>();
    for (int64_t k = 0; k < end - begin; ++k) {
      for (int64_t r = 0; r < rows; ++r) put(r, position[begin + k], t[r][k]);
    }
    latencies_ms.push_back((monotonic_seconds() - t0) * 1e3);
  }
  if (collectives) {
    // Every rank takes part even with no examples of its own; the sums are exact (integers,
    // and float64 sums where all but one rank add zeros).
    torch::Tensor sums = torch::stack({loss_sum, token_count.to(torch::kFloat64), token_correct.to(torch::kFloat64)})
                             .to(torch::kCPU);
    collectives->all_reduce_sum(sums);
    loss_sum = sums[0];
    token_count = sums[1].to(torch::kInt64);
    token_correct = sums[2].to(torch::kInt64);
    if (!language_model) {
      torch::Tensor counts = torch::tensor(result.confusion.counts(), torch::kInt64);
      collectives->all_reduce_sum(counts);
      result.confusion.set_counts(std::vector<int64_t>(counts.data_ptr<int64_t>(), counts.data_ptr<int64_t>() + counts.numel()));
    }
    if (rows > 0) {
      // Replicated splits: every rank filled its positions of the same n. Local splits: the
      // ranks' examples follow one another in rank order.
      const int64_t offset = own_split ? std::accumulate(rank_sizes.begin(), rank_sizes.begin() + rank, int64_t{0}) : 0;
      torch::Tensor table = torch::zeros({rows, total}, torch::kFloat64);
      table.narrow(1, offset, n).copy_(torch::tensor(per_example, torch::kFloat64).reshape({rows, n}));
      collectives->all_reduce_sum(table);
      per_example.assign(table.data_ptr<double>(), table.data_ptr<double>() + rows * total);
    }
  }
  const double seconds = monotonic_seconds() - start;
  if (was_training) model.train();

  const auto row_values = [&](int64_t row) {
    return std::vector<double>(per_example.begin() + row * total, per_example.begin() + (row + 1) * total);
  };
  result.samples = total;
  if (outcomes) {
    ExampleOutcomes& o = result.outcomes;
    o.language_model = language_model;
    o.num_classes = num_classes;
    // Replicated splits: position p scored example examples[p] on whichever rank had it.
    const torch::Tensor all_examples = spaced(torch::arange(total, torch::kInt64), total);
    o.example.assign(all_examples.data_ptr<int64_t>(), all_examples.data_ptr<int64_t>() + total);
    const auto as_ints = [](const std::vector<double>& v) { return std::vector<int64_t>(v.begin(), v.end()); };
    if (language_model) {
      o.loss = row_values(kLmLoss);
      o.tokens = as_ints(row_values(kLmTokens));
      o.correct_tokens = as_ints(row_values(kLmCorrect));
    } else {
      const std::vector<double> confidence = row_values(kConfidence);
      o.confidence.assign(confidence.begin(), confidence.end());
      o.predicted = as_ints(row_values(kPredicted));
      o.target = as_ints(row_values(kTarget));
      o.loss = row_values(kLoss);
    }
  }
  if (language_model) {
    result.tokens = token_count.item<int64_t>();
    const double predictions = static_cast<double>(std::max<int64_t>(1, result.tokens));
    result.loss = loss_sum.item<double>() / predictions;
    result.perplexity = std::exp(result.loss);
    result.scores.accuracy = static_cast<double>(token_correct.item<int64_t>()) / predictions;
  } else {
    result.loss = loss_sum.item<double>() / static_cast<double>(total);
    result.scores = result.confusion.scores();
    const std::vector<double> confidence = row_values(kConfidence), correct = row_values(kCorrect);
    std::vector<uint8_t> hits(correct.size());
    std::transform(correct.begin(), correct.end(), hits.begin(), [](double c) { return static_cast<uint8_t>(c > 0.5); });
    result.confidence.assign(confidence.begin(), confidence.end());
    result.ece = expected_calibration_error(result.confidence, hits);
  }
  result.samples_per_second = seconds > 0 ? static_cast<double>(total) / seconds : 0;
  result.latency_p50_ms = percentile(latencies_ms, 0.50);
  result.latency_p95_ms = percentile(latencies_ms, 0.95);
  return result;
}

std::vector<SplitEvaluation> evaluate_all(models::Model& model, const data::SplitData& data, const RunConfig& config,
                                          const torch::Device& device, OpenSetScores* open_set,
                                          Collectives* collectives, bool local_splits, bool keep_outcomes,
                                          EnergyMeter* energy) {
  const int64_t classes = config.model.num_classes > 0 ? config.model.num_classes : data.spec.num_classes;
  std::vector<SplitEvaluation> out;
  for (const auto& [name, split] : {std::pair<std::string, const data::TensorDataset*>{"seen", &data.seen},
                                    {"validation", &data.validation},
                                    {"unseen", &data.unseen}}) {
    const std::optional<double> joules_before = energy ? energy->joules() : std::nullopt;
    out.push_back(
        evaluate_split(model, *split, name, classes, data.spec.pad_token, config.eval, device, collectives, local_splits,
                       keep_outcomes));
    SplitEvaluation& e = out.back();
    if (joules_before) e.energy_joules = energy->joules().value_or(std::nan("")) - *joules_before;
    if (!config.eval.slices.empty() && e.outcomes.size() > 0) {
      e.slices = evaluate_slices(config, slice_facts(data, *split, config), name, e.outcomes);
    }
  }
  if (open_set && config.data.unseen.by == data::UnseenBy::label) {
    const auto& known = out[1].confidence;
    const auto& unknown = out[2].confidence;
    open_set->available = !known.empty() && !unknown.empty();
    open_set->auroc = auroc(known, unknown);
    open_set->threshold = config.eval.reject_threshold;
    open_set->unseen_rejection_rate = rejection_rate(unknown, open_set->threshold);
    open_set->validation_rejection_rate = rejection_rate(known, open_set->threshold);
  }
  return out;
}

const std::vector<std::string>& selectable_metrics() {
  static const std::vector<std::string> names = {"accuracy", "macro_f1", "macro_precision", "macro_recall", "loss",
                                                 "ece", "perplexity"};
  return names;
}

namespace {

std::pair<std::string, std::string> split_and_metric(const std::string& key) {
  const auto dot = key.find('.');
  return {key.substr(0, dot), dot == std::string::npos ? "" : key.substr(dot + 1)};
}

}  // namespace

bool is_metric_key(const std::string& key) {
  const auto [split, metric] = split_and_metric(key);
  const auto& metrics = selectable_metrics();
  return (split == "seen" || split == "validation" || split == "unseen") &&
         std::find(metrics.begin(), metrics.end(), metric) != metrics.end();
}

bool lower_is_better(const std::string& key) {
  const std::string metric = split_and_metric(key).second;
  return metric == "loss" || metric == "ece" || metric == "perplexity";
}

double metric_value(const std::vector<SplitEvaluation>& evaluations, const std::string& key) {
  const auto [split, metric] = split_and_metric(key);
  for (const auto& e : evaluations) {
    if (e.split != split || e.samples == 0) continue;
    if (metric == "accuracy") return e.scores.accuracy;
    if (metric == "macro_f1") return e.scores.macro_f1;
    if (metric == "macro_precision") return e.scores.macro_precision;
    if (metric == "macro_recall") return e.scores.macro_recall;
    if (metric == "loss") return e.loss;
    if (metric == "ece") return e.ece;
    if (metric == "perplexity") return e.perplexity;
  }
  return std::nan("");
}

std::string evaluation_json(const std::vector<SplitEvaluation>& splits, const std::vector<std::string>& class_names,
                            const models::ModelFacts& facts, int64_t step, const OpenSetScores& open_set,
                            const std::string& weights_json) {
  nlohmann::ordered_json out;
  out["step"] = step;
  if (!weights_json.empty()) out["weights"] = nlohmann::ordered_json::parse(weights_json);
  out["model"] = {{"parameters", facts.parameters},
                  {"trainable_parameters", facts.trainable_parameters},
                  {"trainable_fraction", facts.parameters > 0 ? static_cast<double>(facts.trainable_parameters) /
                                                                    static_cast<double>(facts.parameters)
                                                              : 0.0},
                  {"weight_bytes", facts.weight_bytes},
                  {"peak_rss_bytes", facts.peak_rss_bytes}};
  if (facts.peak_cuda_allocated_bytes >= 0) out["model"]["peak_cuda_allocated_bytes"] = facts.peak_cuda_allocated_bytes;
  for (const auto& [format, packed] : facts.packed) {
    out["model"]["quantized"][format] = {
        {"weights", packed.weights},
        {"bytes", packed.bytes},
        {"bytes_per_weight", static_cast<double>(packed.bytes) / static_cast<double>(packed.weights)}};
  }
  out["class_names"] = class_names;
  for (const auto& s : splits) {
    nlohmann::ordered_json j;
    j["samples"] = s.samples;
    if (s.language_model) {
      j["tokens"] = s.tokens;
      j["loss"] = s.loss;
      j["perplexity"] = s.perplexity;
      j["token_accuracy"] = s.scores.accuracy;
      j["cost"] = {{"tokens_per_second", s.samples_per_second * static_cast<double>(s.tokens) /
                                             static_cast<double>(std::max<int64_t>(1, s.samples))},
                   {"batch_latency_p50_ms", s.latency_p50_ms},
                   {"batch_latency_p95_ms", s.latency_p95_ms}};
      if (!std::isnan(s.energy_joules)) j["cost"]["energy_joules"] = s.energy_joules;
      out["splits"][s.split] = j;
      continue;
    }
    j["loss"] = s.loss;
    j["accuracy"] = s.scores.accuracy;
    j["macro_precision"] = s.scores.macro_precision;
    j["macro_recall"] = s.scores.macro_recall;
    j["macro_f1"] = s.scores.macro_f1;
    j["expected_calibration_error"] = s.ece;
    j["per_class"] = {{"precision", s.scores.precision}, {"recall", s.scores.recall}, {"f1", s.scores.f1}};
    std::vector<std::vector<int64_t>> matrix;
    for (int64_t t = 0; t < s.confusion.num_classes(); ++t) {
      std::vector<int64_t> row;
      for (int64_t p = 0; p < s.confusion.num_classes(); ++p) row.push_back(s.confusion.count(t, p));
      matrix.push_back(row);
    }
    j["confusion_matrix"] = matrix;
    j["cost"] = {{"samples_per_second", s.samples_per_second},
                 {"batch_latency_p50_ms", s.latency_p50_ms},
                 {"batch_latency_p95_ms", s.latency_p95_ms}};
    if (!std::isnan(s.energy_joules)) j["cost"]["energy_joules"] = s.energy_joules;
    out["splits"][s.split] = j;
  }
  for (const auto& s : splits) {
    if (!s.slices.empty()) out["slices"][s.split] = nlohmann::ordered_json::parse(slices_json(s.slices));
  }
  if (open_set.available) {
    out["open_set"] = {{"auroc_max_softmax", open_set.auroc},
                       {"reject_threshold", open_set.threshold},
                       {"unseen_rejection_rate", open_set.unseen_rejection_rate},
                       {"validation_rejection_rate", open_set.validation_rejection_rate}};
  }
  return out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

}  // namespace stratum
