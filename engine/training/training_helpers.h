#pragma once
// Small pieces of the training run that need no state of their own: seeds, the device, the
// multi-rank agreement checks, the loss normalizer and the records written for the report.

#include <torch/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "core/batch.h"
#include "data/split_data.h"
#include "distributed/collectives.h"
#include "engine/config.h"
#include "engine/evaluator.h"
#include "engine/metrics_writer.h"
#include "engine/training_checkpoint.h"

namespace stratum::training {

// Below this fp16 loss scale even unscaled gradients overflow: training cannot recover.
constexpr double kMinLossScale = 1.0 / 16384;

/// Seeds one named random stream from the run seed, so adding a stream never shifts another.
uint64_t derive_seed(uint64_t seed, const std::string& stream);

/// The device `wanted` resolves to on this machine.
torch::Device pick_device(DeviceChoice wanted);

/// Per-label reservoir sizes along the training stream and the sampler's counters, for the report.
std::string reservoirs_json(const data::SplitData& data);

/// One split's evaluation as an "eval" record of metrics.jsonl.
void log_evaluation(const SplitEvaluation& e, int64_t step, MetricsWriter& metrics);

/// A drift alert as an "event" record of metrics.jsonl (the report marks it on the charts).
MetricRecord drift_event_record(const data::DriftEvent& e, int64_t step);

/// Every rank's `row` (same shape on all), stacked in rank order.
torch::Tensor gather_rows(Collectives& collectives, const torch::Tensor& row);

/// Every rank's string, in rank order.
std::vector<std::string> gather_strings(Collectives& collectives, const std::string& mine);

/// A UserError when some rank built a different data pipeline from rank 0's.
void check_same_data_on_every_rank(Collectives& collectives, const std::string& pipeline_state,
                                   const std::string& manifest);

/// A checkpoint's replicas can continue on another number of ranks only when each optimizer
/// step still sees the same global batch; a UserError otherwise.
void check_resumable_world(const std::string& checkpoint, const TrainingState& saved, const TrainingState& now);

/// Compares copies that must be equal by construction; a difference is a bug.
void check_copies_agree(Collectives& collectives, const std::vector<torch::Tensor>& parameters, const std::string& what);

/// Copies of `model`'s parameters, then its buffers: weights to put back with restore_weights.
std::vector<torch::Tensor> snapshot_weights(torch::nn::Module& model);

/// Puts a snapshot_weights of the same model back.
void restore_weights(torch::nn::Module& model, const std::vector<torch::Tensor>& snapshot);

/// What the batch's mean loss divides by: scored tokens, class weights of its targets, or examples.
double loss_normalizer(const data::Batch& batch, bool language_model, int64_t pad_token,
                       const torch::Tensor& class_weights);

}  // namespace stratum::training
