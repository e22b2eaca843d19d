#include "engine/training/training_helpers.h"

#include <torch/torch.h>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/log.h"
#include "core/sha256.h"
#include "data/hash.h"
#include "models/next_token_loss.h"

namespace stratum::training {

// Seeds one named random stream from the run seed, so adding a stream never shifts another.
uint64_t derive_seed(uint64_t seed, const std::string& stream) {
  return data::splitmix64(seed ^ data::content_hash(stream.data(), stream.size()));
}

torch::Device pick_device(DeviceChoice wanted) {
  if (wanted == DeviceChoice::cuda || (wanted == DeviceChoice::automatic && torch::cuda::is_available())) {
    return torch::Device(torch::kCUDA);
  }
  return torch::Device(torch::kCPU);
}

// Per-label reservoir sizes along the training stream and the sampler's counters, for the report.
std::string reservoirs_json(const data::SplitData& data) {
  nlohmann::ordered_json out;
  out["class_names"] = data.spec.class_names;
  out["sampler"] = {{"offered", data.sampler.offered},       {"entered", data.sampler.entered},
                    {"duplicates", data.sampler.duplicates}, {"evicted", data.sampler.evicted},
                    {"rebalances", data.sampler.rebalances}};
  out["history"] = nlohmann::ordered_json::array();
  for (const data::ReservoirSnapshot& s : data.reservoir_history) {
    out["history"].push_back({{"record", s.record}, {"sizes", s.sizes}});
  }
  return out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

void log_evaluation(const SplitEvaluation& e, int64_t step, MetricsWriter& metrics) {
  MetricRecord record{"eval", step, {}, {}};
  record.add("split", e.split).add("samples", static_cast<double>(e.samples)).add("loss", e.loss);
  if (e.language_model) {
    record.add("perplexity", e.perplexity).add("token_accuracy", e.scores.accuracy);
  } else {
    record.add("accuracy", e.scores.accuracy).add("macro_f1", e.scores.macro_f1);
  }
  record.add("samples_per_second", e.samples_per_second);
  metrics.write(record);
  for (const SliceEvaluation& slice : e.slices) {
    MetricRecord figures{"slices", step, {}, {}};
    figures.add("split", e.split).add("slice", slice.name);
    for (const SliceDisparity& d : slice.result.disparities) {
      if (!d.available) continue;
      figures.add(d.metric + "_difference", d.difference).add(d.metric + "_worst_value", d.worst_value);
      figures.add(d.metric + "_worst", d.worst);
    }
    metrics.write(figures);
    for (const SliceAlert& alert : slice.alerts) {
      log::warn(alert.describe());
      MetricRecord event{"event", step, {}, {}};
      event.add("event", std::string("slice_alert"))
          .add("split", alert.split)
          .add("slice", alert.slice)
          .add("metric", alert.metric)
          .add("worst", alert.worst)
          .add("best", alert.best)
          .add("difference", alert.difference)
          .add("difference_low", alert.difference_interval.first)
          .add("difference_high", alert.difference_interval.second)
          .add("ratio", alert.ratio)
          .add("max_gap", alert.max_gap)
          .add("min_ratio", alert.min_ratio);
      metrics.write(event);
    }
  }
}

MetricRecord drift_event_record(const data::DriftEvent& e, int64_t step) {
  MetricRecord record{"event", step, {}, {}};
  record.add("event", std::string("drift"))
      .add("statistic", e.statistic)
      .add("subject", e.subject)
      .add("record", static_cast<double>(e.record))
      .add("value", e.value)
      .add("threshold", e.threshold);
  return record;
}

// Each rank's `row` (same length on every rank) stacked into a (world, length) table on every rank.
torch::Tensor gather_rows(Collectives& collectives, const torch::Tensor& row) {
  torch::Tensor table = torch::zeros({collectives.world_size(), row.numel()}, row.options());
  table[collectives.rank()].copy_(row.reshape({-1}));
  collectives.all_reduce_sum(table);
  return table;
}

// Every rank's `mine`, in rank order (lengths may differ).
std::vector<std::string> gather_strings(Collectives& collectives, const std::string& mine) {
  const torch::Tensor lengths = gather_rows(collectives, torch::tensor({static_cast<int64_t>(mine.size())}, torch::kInt64));
  const int64_t longest = lengths.max().item<int64_t>();
  torch::Tensor table = torch::zeros({collectives.world_size(), longest}, torch::kUInt8);
  if (!mine.empty()) {
    table[collectives.rank()].narrow(0, 0, static_cast<int64_t>(mine.size()))
        .copy_(torch::from_blob(const_cast<char*>(mine.data()), {static_cast<int64_t>(mine.size())}, torch::kUInt8));
  }
  collectives.all_reduce_sum(table);
  std::vector<std::string> out;
  for (int64_t r = 0; r < table.size(0); ++r) {
    const auto* bytes = reinterpret_cast<const char*>(table[r].data_ptr<uint8_t>());
    out.emplace_back(bytes, static_cast<size_t>(lengths[r][0].item<int64_t>()));
  }
  return out;
}

// Ranks that read different files (another node's copy) or drew different reservoirs would
// train on different data without a word; compare every rank's pipeline with rank 0's.
void check_same_data_on_every_rank(Collectives& collectives, const std::string& pipeline_state,
                                   const std::string& manifest) {
  const std::vector<std::string> digests = gather_strings(collectives, sha256_hex(manifest + "\n" + pipeline_state));
  for (size_t r = 1; r < digests.size(); ++r) {
    if (digests[r] != digests[0]) {
      throw UserError("data: rank " + std::to_string(r) + " built a different data pipeline from rank 0's (different "
                      "files on its node, or a source that is not deterministic); every rank must see the same data");
    }
  }
}

// A checkpoint's replicas can continue on another number of ranks only when each optimizer
// step still sees the same global batch (trainer.batch_size × replicas × grad_accum).
void check_resumable_world(const std::string& checkpoint, const TrainingState& saved, const TrainingState& now) {
  if (saved.world_size == now.world_size) return;
  if (saved.global_batch != 0 && saved.global_batch == now.global_batch) {
    log::warn("resume: " + checkpoint + " was trained on " + std::to_string(saved.world_size) +
              " rank(s), continuing on " + std::to_string(now.world_size) + " with the same global batch of " +
              std::to_string(now.global_batch) + "; data order is kept, per-rank dropout streams are re-drawn");
    return;
  }
  throw UserError(checkpoint + "/state.json: trained on " + std::to_string(saved.world_size) +
                  " rank(s) with a global batch of " + std::to_string(saved.global_batch) + ", this job has " +
                  std::to_string(now.world_size) + " rank(s) and a global batch of " +
                  std::to_string(now.global_batch) + "; resume with " + std::to_string(saved.world_size) +
                  " rank(s), or set trainer.batch_size so that batch_size x data-parallel replicas x grad_accum = " +
                  std::to_string(saved.global_batch));
}

// Copies that must be equal by construction (data-parallel replicas' parameters, the unsplit
// parameters of a split model's parts) are compared by checksum; a difference is a bug.
void check_copies_agree(Collectives& collectives, const std::vector<torch::Tensor>& parameters, const std::string& what) {
  std::vector<torch::Tensor> sums{torch::zeros({1}, torch::kFloat64)};
  for (const torch::Tensor& p : parameters) sums.push_back(p.detach().to(torch::kCPU, torch::kFloat64).sum().reshape({1}));
  const torch::Tensor table = gather_rows(collectives, torch::cat(sums));
  for (int64_t r = 1; r < table.size(0); ++r) {
    STRATUM_CHECK(table[r].equal(table[0]), what + ": rank " + std::to_string(r) + "'s copies differ from rank 0's");
  }
  log::info(what + ": all " + std::to_string(table.size(0)) + " hold identical copies of " +
            std::to_string(parameters.size()) + " parameters");
}

// What the batch's mean loss divides by: its scored tokens (language model), the class
// weights of its targets (balanced classes) or its examples.
double loss_normalizer(const data::Batch& batch, bool language_model, int64_t pad_token,
                       const torch::Tensor& class_weights) {
  if (batch.size() == 0) return 0;
  if (language_model) return static_cast<double>(scored_tokens(next_token_sequence(batch), pad_token).item<int64_t>());
  if (batch.targets.is_floating_point()) {  // soft targets (Mixup / CutMix): Σ_i Σ_c w_c p_ic
    return class_weights.defined() ? (batch.targets * class_weights.unsqueeze(0)).sum().item<double>()
                                   : static_cast<double>(batch.size());
  }
  if (class_weights.defined()) return class_weights.index_select(0, batch.targets).sum().item<double>();
  return static_cast<double>(batch.size());
}

std::vector<torch::Tensor> snapshot_weights(torch::nn::Module& model) {
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> out;
  for (const torch::Tensor& t : model.parameters()) out.push_back(t.detach().clone());
  for (const torch::Tensor& t : model.buffers()) out.push_back(t.detach().clone());
  return out;
}

void restore_weights(torch::nn::Module& model, const std::vector<torch::Tensor>& snapshot) {
  std::vector<torch::Tensor> slots = model.parameters();
  for (const torch::Tensor& b : model.buffers()) slots.push_back(b);
  if (slots.size() != snapshot.size()) throw std::logic_error("restore_weights: the snapshot is of another model");
  torch::NoGradGuard no_grad;
  for (size_t i = 0; i < slots.size(); ++i) slots[i].copy_(snapshot[i]);
}

}  // namespace stratum::training
