#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <optional>
#include <nlohmann/json.hpp>

#include "core/energy_meter.h"
#include "core/error.h"
#include "core/log.h"
#include "core/random_state.h"
#include "core/system_info.h"
#include "core/text.h"
#include "core/torch_compat.h"
#include "distributed/tensor_parallelism.h"
#include "engine/audit/run_audit.h"
#include "engine/classification.h"
#include "engine/lr_schedule.h"
#include "engine/mixup.h"
#include "engine/optimizer.h"
#include "engine/predictions_file.h"
#include "engine/registry.h"
#include "engine/report/run_report.h"
#include "engine/run_dir.h"
#include "engine/stop_signal.h"
#include "engine/training/early_stopping.h"
#include "engine/training/gradient_clipping.h"
#include "engine/training/training_helpers.h"
#include "engine/training/training_run.h"
#include "engine/weight_average.h"
#include "models/next_token_loss.h"

namespace stratum::training {

bool TrainingRun::stop_wanted() { return ranks_.world > 1 ? stop_agreed_ : stop_requested(); }

// One optimizer step over grad_accum micro-batches. A step of many micro-batches can take
// long: a stop request between them abandons it (no update applied, data position and random
// generators back to the step's start), so the checkpoint is the last complete step's and a
// resumed run repeats this one whole.
bool TrainingRun::train_step(int64_t step, double lr) {
  // trainer.assert_no_sync: between logging steps nothing may make the host wait for the GPU.
  std::optional<compat::NoCudaSyncScope> no_sync;
  if (options_.assert_no_sync && device_.is_cuda() && !logs_at(step)) no_sync.emplace();
  set_learning_rate(*optimizer_, lr);
  optimizer_->zero_grad();
  if (scaler_->enabled()) step_loss_.zero_();
  const int64_t step_start_batches = state_.batches;
  const torch::Tensor step_start_generators = options_.grad_accum > 1 ? generator_state_bytes() : torch::Tensor();
  for (int64_t micro = 0; micro < options_.grad_accum; ++micro) {
    // A continuous step has taken its records already: it is finished, not abandoned.
    if (micro > 0 && !stream_ && stop_wanted()) {
      state_.batches = step_start_batches;
      set_generator_state_bytes(step_start_generators, "the abandoned step's start");
      return false;
    }
    const data::Batch host_batch = next_batch();
    // no_sync: only the last micro-batch's backward reduces (the accumulated) gradients.
    if (gradient_sync_) gradient_sync_->set_sync(micro + 1 == options_.grad_accum);
    ++state_.batches;
    micro_batch(host_batch);
  }
  const torch::Tensor grad_norm = apply_gradients(step);
  state_.step = step;
  no_sync.reset();
  if (logs_at(step)) log_window(step, lr, grad_norm.defined() ? grad_norm.item<double>() : 0.0);
  return true;
}

// Forward and backward of one micro-batch. Each replica's loss is a mean over its shard (over
// tokens for a language model, weighted by class when balanced), and gradients are averaged
// over ranks; scaling a shard's loss by its share of the global batch's normalizer makes that
// average the gradient of the global batch's mean loss. The normalizers are summed while the
// forward pass runs. The all-reduce spans every rank (each part of a split model adds its
// replica's normalizer) and carries each rank's stop flag: a SIGINT / SIGTERM reaches the ranks
// at different moments, and they must stop after the same step or one would be left waiting in
// a collective.
void TrainingRun::micro_batch(const data::Batch& loaded) {
  const RankLayout& r = ranks_;
  // Mixup / CutMix on the host, before the normalizers see the (soft) targets. The draws come
  // from the seed, the micro-batch's number and the replica: a resumed run repeats them.
  const data::Batch host_batch =
      options_.mixup.enabled() && !language_model_ && loaded.size() > 0
          ? mix_batch(loaded, config_.model.num_classes > 0 ? config_.model.num_classes : data_.spec.num_classes,
                      options_.label_smoothing, options_.mixup,
                      derive_seed(seed_, "mixup/" + std::to_string(state_.batches) + "/" + std::to_string(r.replica)))
                .batch
          : loaded;
  double shard_share = 0;
  torch::Tensor global_terms;  // (normalizer, ranks asked to stop), summed over ranks
  std::unique_ptr<PendingCollective> summing;
  if (r.world > 1) {
    shard_share = loss_normalizer(host_batch, language_model_, pad_token_, host_class_weights_);
    global_terms = torch::tensor({shard_share, stop_requested() ? 1.0 : 0.0}, torch::kFloat64);
    summing = r.everyone->all_reduce_sum_async(global_terms);
  }
  // Waits for the sums; returns the global normalizer (each replica's counted once).
  const auto settle = [&] {
    summing->wait();
    stop_agreed_ = stop_agreed_ || global_terms[1].item<double>() > 0;
    return global_terms[0].item<double>() / r.parts;
  };
  // A rank's shard of a short last batch of an epoch may be empty; its gradient is zero.
  if (host_batch.size() == 0) {
    if (summing) settle();
    return;
  }
  // Throughput counts what the model learns from: examples, or real (non-padding) tokens.
  window_samples_ += language_model_ && pad_token_ >= 0 ? host_batch.inputs.ne(pad_token_).sum().item<int64_t>()
                     : language_model_                  ? host_batch.inputs.numel()
                                                        : host_batch.size();
  const data::Batch batch = host_batch.to(device_);
  torch::Tensor logits;
  if (options_.precision != Precision::fp32) {
    // Forward in bfloat16 / float16 where autocast allows; the loss and the fp32 master
    // weights stay fp32.
    const compat::AutocastScope autocast(device_.is_cuda(), /*half=*/options_.precision == Precision::fp16);
    logits = model_->forward(batch);
  } else {
    logits = model_->forward(batch);
  }
  torch::Tensor loss =
      !language_model_ ? classification_loss(logits.to(torch::kFloat32), batch.targets, options_.label_smoothing, class_weights_)
      : r.tensor       ? r.tensor->next_token_loss(logits.to(torch::kFloat32), next_token_sequence(batch), pad_token_)
                       : next_token_loss(logits.to(torch::kFloat32), next_token_sequence(batch), pad_token_);
  // Ranks' gradients are averaged, so a shard's loss counts by its share of the global
  // batch: the average is then the gradient of the global batch's mean loss.
  if (r.world > 1) loss = loss * (shard_share * r.replica_count / std::max(1e-12, settle()));
  scaler_->scale(loss / static_cast<double>(options_.grad_accum)).backward();
  step_loss_ += loss.detach().to(torch::kFloat64) / static_cast<double>(options_.grad_accum);
}

// Averages, unscales and clips the gradients and applies the update. With fp16, gradients are
// unscaled before clipping, and a step whose gradients overflowed is skipped (the scaler backs
// off) rather than applied. Returns the gradient norm before clipping (0 when not clipped).
torch::Tensor TrainingRun::apply_gradients(int64_t step) {
  if (gradient_sync_) gradient_sync_->finish();
  torch::Tensor grad_norm;
  bool finite = scaler_->unscale(model_->parameters());
  if (ranks_.tensor && scaler_->enabled()) {
    // The parts of a split model see different gradients; they skip a step together or not at all.
    torch::Tensor overflowed =
        torch::tensor({finite ? 0.0 : 1.0}, torch::TensorOptions().dtype(torch::kFloat32).device(device_));
    ranks_.tensor->group().all_reduce_max(overflowed);
    finite = overflowed.item<double>() == 0;
  }
  if (finite) {
    if (options_.clip_grad_norm > 0) {
      // A split model's parts add their shares of the norm in a collective (it waits for it).
      grad_norm = ranks_.tensor ? torch::tensor(ranks_.tensor->clip_gradient_norm(*model_, options_.clip_grad_norm))
                                : clip_gradient_norm(model_->parameters(), options_.clip_grad_norm);
    }
    optimizer_->step();
    if (average_) average_->update(step);
    if (scaler_->enabled()) window_loss_ += step_loss_;
    ++window_steps_;
  }
  scaler_->update(finite);
  if (scaler_->enabled() && scaler_->factor() < kMinLossScale) {
    throw UserError("trainer: fp16 gradients overflow even at loss scale " + format_number(scaler_->factor()) +
                    " (step " + std::to_string(step) + "); use trainer.precision: bf16 or lower trainer.lr");
  }
  return grad_norm;
}

// The window's mean loss and throughput: a progress line and a "train" record.
void TrainingRun::log_window(int64_t step, double lr, double grad_norm) {
  const double now = monotonic_seconds();
  double loss_sum = window_loss_.item<double>();
  double samples = static_cast<double>(window_samples_);
  if (ranks_.replicas) {
    // The global batch's loss (ranks' weighted losses average to it) and all ranks' samples.
    torch::Tensor totals = torch::tensor({loss_sum / ranks_.replica_count, samples}, torch::kFloat64);
    ranks_.replicas->all_reduce_sum(totals);
    loss_sum = totals[0].item<double>();
    samples = totals[1].item<double>();
  }
  // A window of only skipped fp16 steps has no loss to report (null in metrics.jsonl).
  const double loss = window_steps_ > 0 ? loss_sum / static_cast<double>(window_steps_) : std::nan("");
  const double throughput = samples / std::max(1e-9, now - window_start_);
  const bool range_test = options_.schedule == Schedule::range_test;
  if (!std::isfinite(loss) && window_steps_ > 0 && !range_test) {
    throw UserError("trainer: the training loss became " + std::to_string(loss) + " at step " + std::to_string(step) +
                    "; lower trainer.lr or enable trainer.clip_grad_norm");
  }
  if (range_test && window_steps_ > 0) {
    // The range test has found the top of the useful range once the loss runs away.
    if (!std::isfinite(loss) || (!std::isnan(range_lowest_loss_) && loss > 4 * range_lowest_loss_)) {
      stopped_early_ = true;
      log::info("range test: the loss diverged (" + format_number(loss) + ", lowest " + format_number(range_lowest_loss_) +
                ") at learning rate " + format_number(lr) + ", step " + std::to_string(step) + "; stopping");
    } else if (std::isnan(range_lowest_loss_) || loss < range_lowest_loss_) {
      range_lowest_loss_ = loss;
    }
  }
  trained_units_ += samples;
  if (window_steps_ > 0) {
    if (first_window_) outcome_.first_loss = loss;
    first_window_ = false;
    outcome_.last_loss = loss;
  }
  MetricRecord record{"train", step, {}, {}};
  if (sampler_) record.add("epoch", static_cast<double>(sampler_->epoch()));
  record.add("loss", loss)
      .add("lr", lr)
      .add("grad_norm", grad_norm)
      .add("samples_per_second", throughput);
  // Real (non-padding) tokens each step learned from: with token shards, the whole windows.
  if (language_model_ && window_steps_ > 0) record.add("tokens_per_step", samples / static_cast<double>(window_steps_));
  // Cumulative since the run (this process) started; null where the machine has no counters.
  if (ranks_.primary) record.add("energy_joules", energy_ ? energy_->joules().value_or(std::nan("")) : std::nan(""));
  if (scaler_->enabled()) {
    record.add("loss_scale", scaler_->factor()).add("skipped_steps", static_cast<double>(scaler_->skipped_steps()));
  }
  // A mix: each source's achieved share of the examples trained on so far, and how many times
  // over its seen examples that is (passes).
  if (stream_) add_stream_counters(record, now - window_start_);
  const std::vector<int64_t> drawn = sampler_ ? sampler_->mix_counts() : std::vector<int64_t>{};
  int64_t all_drawn = 0;
  for (int64_t n : drawn) all_drawn += n;
  for (size_t s = 0; s < drawn.size() && all_drawn > 0; ++s) {
    const data::MixComponent& m = data_.mix[s];
    record.add("mix/" + m.name + "/share", static_cast<double>(drawn[s]) / static_cast<double>(all_drawn));
    if (m.end > m.begin) record.add("mix/" + m.name + "/passes", static_cast<double>(drawn[s]) / static_cast<double>(m.end - m.begin));
  }
  metrics_->write(record);
  if (ranks_.primary) log::status(progress_->line(step, loss, lr, throughput, now));
  window_loss_.zero_();
  window_steps_ = window_samples_ = 0;
  window_start_ = now;
}

void TrainingRun::evaluate_during_training(int64_t step) {
  if (config_.eval.every <= 0 || step % config_.eval.every != 0 || step == total_steps_) {
    if (stream_) consider_promotion(step, nullptr);
    return;
  }
  if (stream_) refresh_held_out();
  if (gradient_sync_) gradient_sync_->share_buffers();
  std::vector<SplitEvaluation> evaluations;
  bool improved = false;
  {
    const AveragedWeightsScope averaged(evaluated_average());
    evaluations = evaluate_all(*model_, data_, config_, device_, nullptr, ranks_.replicas, ranks_.sharded_stream);
    if (early_stopping_) improved = judge_early_stopping(evaluations, step);  // copies the weights it scored
  }
  for (const auto& e : evaluations) log_evaluation(e, step, *metrics_);
  consider_best(evaluations, improved);
  if (stream_) consider_promotion(step, &evaluations);
}

WeightAverage* TrainingRun::evaluated_average() const { return config_.eval.use_ema ? average_.get() : nullptr; }

// Every rank reduces the same evaluation figures, so every rank reaches the same verdict.
bool TrainingRun::judge_early_stopping(const std::vector<SplitEvaluation>& evaluations, int64_t step) {
  const EarlyStopping::Verdict verdict = early_stopping_->observe(metric_value(evaluations, options_.early_stopping.metric), step);
  if (verdict == EarlyStopping::Verdict::improved && options_.early_stopping.restore_best) {
    best_weights_ = snapshot_weights(*model_);
  }
  if (verdict != EarlyStopping::Verdict::stop) return verdict == EarlyStopping::Verdict::improved;
  stopped_early_ = true;
  log::end_status();
  if (ranks_.primary) {
    log::info("early stopping at step " + std::to_string(step) + " of " + std::to_string(total_steps_) + ": " +
              early_stopping_->describe_stop());
  }
  return false;
}

// The final evaluation scores the best evaluated weights of a run that stopped early
// (trainer.early_stopping.restore_best), else the average (trainer.ema with eval.use_ema), else
// the last weights; with an average the other weights are scored beside it on the held-out
// splits. Every split's per-example outcomes are kept for predictions.json.
std::vector<SplitEvaluation> TrainingRun::final_evaluation(OpenSetScores& open_set, std::string& weights_json) {
  const RankLayout& r = ranks_;
  const auto evaluate = [&](OpenSetScores* scores) {
    return evaluate_all(*model_, data_, config_, device_, scores, r.replicas, r.sharded_stream, /*keep_outcomes=*/true,
                        energy_.get());
  };
  nlohmann::ordered_json weights;
  std::vector<SplitEvaluation> evaluations;
  // A run that ran its course ends on weights no evaluation has judged yet: they are scored.
  const bool restore_best = stopped_early_ && options_.early_stopping.restore_best && !best_weights_.empty();
  if (restore_best) {
    // The final checkpoint keeps the last weights (to resume from); the best were copied as evaluated.
    restore_weights(*model_, best_weights_);
    evaluations = evaluate(&open_set);
    weights["evaluated"] = "best";
    weights["step"] = early_stopping_->best_step();
    weights["averaged"] = evaluated_average() != nullptr;
    if (r.primary) log::info("final evaluation: the best weights (step " + std::to_string(early_stopping_->best_step()) + ")");
  } else {
    {
      const AveragedWeightsScope averaged(evaluated_average());
      evaluations = evaluate(&open_set);
    }
    weights["evaluated"] = evaluated_average() ? "ema" : "last";
    weights["step"] = total_steps_;
    if (average_) {
      // The other weights beside them: the raw ones when the average was scored, or the reverse.
      const AveragedWeightsScope other(evaluated_average() ? nullptr : average_.get());
      const int64_t classes = config_.model.num_classes > 0 ? config_.model.num_classes : data_.spec.num_classes;
      nlohmann::ordered_json beside;
      for (const auto& [name, split] : {std::pair<const char*, const data::TensorDataset*>{"validation", &data_.validation},
                                        {"unseen", &data_.unseen}}) {
        const SplitEvaluation e = evaluate_split(*model_, *split, name, classes, data_.spec.pad_token, config_.eval,
                                                 device_, r.replicas, r.sharded_stream);
        if (e.samples == 0) continue;
        beside[e.split] = {{"loss", e.loss}};
        if (e.language_model) {
          beside[e.split]["perplexity"] = e.perplexity;
        } else {
          beside[e.split]["accuracy"] = e.scores.accuracy;
          beside[e.split]["macro_f1"] = e.scores.macro_f1;
        }
      }
      weights[evaluated_average() ? "raw" : "ema"] = beside;
    }
  }
  if (early_stopping_) {
    weights["early_stopping"] = {{"metric", options_.early_stopping.metric},
                                 {"stopped", stopped_early_},
                                 {"stopped_at_step", total_steps_},
                                 {"best_step", early_stopping_->best_step()},
                                 {"best", early_stopping_->best()}};
  }
  weights_json = weights.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return evaluations;
}

// Checkpoints the last completed step and ends the run as interrupted.
TrainingOutcome TrainingRun::stop_after(int64_t completed) {
  log::end_status();
  outcome_.checkpoint = checkpoint_now();
  outcome_.interrupted = true;
  outcome_.steps = completed;
  if (ranks_.primary) {
    log::info("stopped by signal after step " + std::to_string(completed) + "; checkpoint " + outcome_.checkpoint);
    if (audit_) audit_->run_finished("stopped", completed, energy_json(nullptr));
    log::info("report: " + report::write_run_report(run_dir_.path()));
  }
  return outcome_;
}

// The last checkpoint, the agreement checks of a multi-process job, the final evaluation of
// every split, eval.json, the transforms' artifacts and the report.
TrainingOutcome TrainingRun::finish() {
  const RankLayout& r = ranks_;
  const bool gathers_whole = r.tensor && r.replica == 0;
  log::end_status();
  outcome_.checkpoint = checkpoint_now();
  outcome_.steps = total_steps_;
  outcome_.stopped_early = stopped_early_;
  outcome_.unseen_description = data_.unseen_description;
  outcome_.seconds = monotonic_seconds() - start_;
  log::info("trained " + std::to_string(total_steps_) + " steps in " + format_duration(outcome_.seconds));

  OpenSetScores open_set;
  if (r.replicas) check_copies_agree(*r.replicas, model_->parameters(), "data parallel replicas");
  if (r.tensor) check_copies_agree(r.tensor->group(), r.tensor->unsplit_parameters(*model_), "tensor parallel parts");
  if (gradient_sync_) gradient_sync_->share_buffers();
  if (stream_) {
    refresh_held_out();
    if (r.primary) run_dir_.write_file("reservoirs.json", reservoirs_json(data_));
  }
  std::string weights_json;
  outcome_.final_evaluation = final_evaluation(open_set, weights_json);
  for (const auto& e : outcome_.final_evaluation) log_evaluation(e, total_steps_, *metrics_);
  if (!stopped_early_) consider_best(outcome_.final_evaluation, false);
  // The adapters' files (save_transform_artifacts) hold whole tensors too.
  if (gathers_whole) r.tensor->gather_whole(nullptr);
  if (!r.primary) {
    if (gathers_whole) r.tensor->restore_split();
    return outcome_;
  }
  facts_.peak_rss_bytes = peak_rss_bytes();
  if (device_.is_cuda()) {
    facts_.peak_cuda_allocated_bytes = compat::cuda_peak_allocated_bytes(device_.index() < 0 ? 0 : device_.index());
  }
  auto eval = nlohmann::ordered_json::parse(evaluation_json(
      outcome_.final_evaluation, language_model_ ? std::vector<std::string>{} : data_.spec.class_names, facts_,
      total_steps_, open_set, weights_json));
  const std::string energy = energy_json(&outcome_.final_evaluation);
  eval["energy"] = nlohmann::ordered_json::parse(energy);
  const auto manifest = nlohmann::ordered_json::parse(data_.manifest, nullptr, false);
  eval["dataset_version"] = manifest.is_object() && manifest.contains("dataset_version") ? manifest["dataset_version"]
                                                                                         : nlohmann::ordered_json(nullptr);
  run_dir_.write_file("eval.json", eval.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
  run_dir_.write_file("predictions.json", predictions_json(outcome_.final_evaluation));
  save_transform_artifacts(registry_, *model_, config_, run_dir_.path());
  if (gathers_whole) r.tensor->restore_split();
  if (audit_) audit_->run_finished("finished", total_steps_, energy);
  log::info("report: " + report::write_run_report(run_dir_.path()));
  return outcome_;
}

}  // namespace stratum::training
