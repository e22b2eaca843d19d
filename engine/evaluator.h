#pragma once
// Evaluation of a model on one split: loss, classification scores and what it cost.

#include <torch/types.h>

#include <cmath>
#include <map>
#include <string>
#include <vector>

#include "engine/classification.h"
#include "distributed/collectives.h"
#include "engine/config.h"
#include "engine/slices/slice_evaluation.h"
#include "data/split_data.h"
#include "data/tensor_dataset.h"
#include "models/model.h"
#include "models/model_facts.h"

namespace stratum {

class EnergyMeter;

/// Everything measured on one split in one evaluation.
struct SplitEvaluation {
  std::string split;  ///< "seen", "validation" or "unseen"
  bool language_model = false;  ///< scored on next tokens (loss, perplexity, token accuracy)
  int64_t samples = 0;
  double loss = 0;                ///< per example (classification) or per predicted token (language model)
  int64_t tokens = 0;             ///< language models: next-token predictions scored
  double perplexity = 0;          ///< language models: exp(loss)
  ConfusionMatrix confusion{1};
  ClassificationScores scores;
  double samples_per_second = 0;
  double latency_p50_ms = 0;  ///< per batch
  double latency_p95_ms = 0;
  double ece = 0;                 ///< expected calibration error of the max-softmax confidence
  std::vector<float> confidence;  ///< max-softmax probability per evaluated example
  ExampleOutcomes outcomes;       ///< per evaluated example, kept when eval.slices is set
  std::vector<SliceEvaluation> slices;  ///< each eval.slices entry on this split
  /// Joules the machine's counters (see core/energy_meter.h) measured while this split was
  /// scored; NaN when nothing was measured.
  double energy_joules = std::nan("");
};

/// How well the max-softmax confidence tells known inputs (validation) from inputs of classes
/// never trained on (an unseen split held out by label).
struct OpenSetScores {
  bool available = false;
  double auroc = 0;                      ///< known vs unknown, by confidence
  double threshold = 0;                  ///< confidence below which an input is rejected
  double unseen_rejection_rate = 0;      ///< unknown inputs rejected (higher is better)
  double validation_rejection_rate = 0;  ///< known inputs rejected (lower is better)
};

/// Runs `model` in eval mode without gradients over `options.max_samples` evenly spaced
/// examples of `dataset` (all when 0) and restores the model's training mode afterwards.
/// Classifiers are scored on their class predictions; language models on next-token loss,
/// perplexity and accuracy over tokens other than `pad_token`. With `collectives` every rank
/// scores every world_size-th of those examples and the sums (loss, tokens, confusion counts,
/// per-example confidence) are added up across ranks, so each rank returns the whole split's
/// figures, equal to a one-process evaluation's. With `local_splits` each rank's `dataset` is its
/// own part of the split (distributed.stream: sharded): it scores its share of max_samples from
/// it, and the figures are those of all parts together.
SplitEvaluation evaluate_split(models::Model& model, const data::TensorDataset& dataset, const std::string& split,
                               int64_t num_classes, int64_t pad_token, const EvalOptions& options,
                               const torch::Device& device, Collectives* collectives = nullptr,
                               bool local_splits = false, bool keep_outcomes = false);

/// Evaluates seen, validation and unseen, and the open-set scores when unseen is held out by
/// label; logs nothing. `collectives` and `local_splits` as for evaluate_split. With
/// `keep_outcomes` (or eval.slices) every split's per-example outcomes are kept (predictions.json).
std::vector<SplitEvaluation> evaluate_all(models::Model& model, const data::SplitData& data, const RunConfig& config,
                                          const torch::Device& device, OpenSetScores* open_set,
                                          Collectives* collectives = nullptr, bool local_splits = false,
                                          bool keep_outcomes = false, EnergyMeter* energy = nullptr);

/// The metrics `trainer.checkpoint.best_metric` may name after "<split>.".
const std::vector<std::string>& selectable_metrics();

/// True when `key` is "<split>.<metric>" with a known split and one of selectable_metrics().
bool is_metric_key(const std::string& key);

/// True when a smaller value of the metric in `key` ("<split>.<metric>") is better (loss, ece).
bool lower_is_better(const std::string& key);

/// The value of "<split>.<metric>" in `evaluations`; NaN when that split is absent or empty.
double metric_value(const std::vector<SplitEvaluation>& evaluations, const std::string& key);

/// eval.json: per split every score (and `weights_json`, an object saying which weights were scored, as "weights") (for language models: loss, perplexity, token accuracy), the confusion matrix with class names, and the cost figures.
std::string evaluation_json(const std::vector<SplitEvaluation>& splits, const std::vector<std::string>& class_names,
                            const models::ModelFacts& facts, int64_t step, const OpenSetScores& open_set,
                            const std::string& weights_json = "");

}  // namespace stratum
