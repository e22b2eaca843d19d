#pragma once
// Evaluation of a model on one split: loss, classification scores and what it cost.

#include <torch/types.h>

#include <string>
#include <vector>

#include "core/classification.h"
#include "core/config.h"
#include "data/tensor_dataset.h"
#include "models/model.h"

namespace stratum {

/// Everything measured on one split in one evaluation.
struct SplitEvaluation {
  std::string split;  ///< "seen", "validation" or "unseen"
  int64_t samples = 0;
  double loss = 0;
  ConfusionMatrix confusion{1};
  ClassificationScores scores;
  double samples_per_second = 0;
  double latency_p50_ms = 0;  ///< per batch
  double latency_p95_ms = 0;
};

/// Runs `model` in eval mode without gradients over `options.max_samples` evenly spaced
/// examples of `dataset` (all when 0) and restores the model's training mode afterwards.
SplitEvaluation evaluate_split(models::Model& model, const data::TensorDataset& dataset, const std::string& split,
                               int64_t num_classes, const EvalSection& options, const torch::Device& device);

/// Facts about the model recorded next to the evaluations.
struct ModelFacts {
  int64_t parameters = 0;
  int64_t trainable_parameters = 0;
  long peak_rss_bytes = 0;
};

/// eval.json: per split every score, the confusion matrix with class names, and the cost figures.
std::string evaluation_json(const std::vector<SplitEvaluation>& splits, const std::vector<std::string>& class_names,
                            const ModelFacts& facts, int64_t step);

}  // namespace stratum
