#include "engine/training/training_run.h"

#include <cstdlib>

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/log.h"
#include "core/sha256.h"
#include "engine/slices/slice_evaluation.h"
#include "core/text.h"
#include "core/torch_compat.h"
#include "distributed/tensor_parallelism.h"
#include "core/random_state.h"
#include "engine/lr_schedule.h"
#include "engine/optimizer.h"
#include "engine/preflight.h"
#include "engine/registry.h"
#include "engine/run_dir.h"
#include "engine/classification.h"
#include "engine/training/training_helpers.h"
#include "data/continuous/continuous_stream.h"
#include "data/mixing/read_sources.h"
#include "engine/continuous/prequential.h"
#include "engine/continuous/promotion_gate.h"
#include "engine/audit/run_audit.h"
#include "core/energy_meter.h"
#include "engine/training/early_stopping.h"
#include "engine/weight_average.h"

namespace stratum::training {

RankLayout RankLayout::of(const ParallelGroups* groups, const RunConfig& config) {
  RankLayout r;
  r.everyone = groups ? groups->world : nullptr;
  r.replicas = groups ? groups->data : nullptr;
  r.tensor = groups ? groups->tensor : nullptr;
  r.rank = r.everyone ? r.everyone->rank() : 0;
  r.world = r.everyone ? r.everyone->world_size() : 1;
  r.replica = r.replicas ? r.replicas->rank() : 0;
  r.replica_count = r.replicas ? r.replicas->world_size() : 1;
  r.parts = r.tensor ? r.tensor->group().world_size() : 1;
  r.primary = r.rank == 0;
  r.first_part = !r.tensor || r.tensor->group().rank() == 0;
  r.sharded_stream = r.replica_count > 1 && config.distributed.stream == distributed::StreamSharding::sharded;
  return r;
}

TrainingRun::TrainingRun(const RunConfig& config, const Registry& registry, const RunDir& run_dir,
                         const ParallelGroups* groups)
    : config_(config),
      options_(config.trainer),
      registry_(registry),
      run_dir_(run_dir),
      seed_(static_cast<uint64_t>(config.run.seed)),
      ranks_(RankLayout::of(groups, config)),
      best_value_(std::nan("")) {}

TrainingRun::~TrainingRun() = default;

TrainingOutcome TrainingRun::run(const std::string& resume_from) {
  if (options_.mode == TrainingMode::continuous) return run_continuous(resume_from);
  seed_and_pick_device();
  read_data();
  const std::string checkpoint = resume_from.empty() ? "" : resolve_checkpoint(resume_from);
  build_model(checkpoint);
  plan_steps();
  if (!checkpoint.empty()) restore(checkpoint);
  connect_replicas();
  if (audit_) audit_->run_started(data_.manifest, checkpoint);
  // Replicated: each replica takes its share of every global batch; sharded: a whole batch
  // of its own split.
  const bool sharded = ranks_.sharded_stream;
  data::LoaderOptions loading{sharded ? options_.batch_size : global_micro_batch_, derive_seed(seed_, "shuffle"),
                              config_.data.prefetch, state_.batches, sharded ? 0 : ranks_.replica,
                              sharded ? 1 : ranks_.replica_count, data_.mix};
  loading.pin_memory = device_.is_cuda() && options_.pin_memory;
  sampler_ = std::make_unique<data::Loader>(data_.seen, loading);
  start_ = monotonic_seconds();
  progress_ = std::make_unique<Progress>(total_steps_, start_, language_model_ ? "tokens" : "samples");
  window_loss_ = torch::zeros({}, torch::TensorOptions().dtype(torch::kFloat64).device(device_));
  // With fp16 a step's loss is held apart until its gradients are known to be finite; otherwise
  // it goes straight into the window.
  step_loss_ = scaler_->enabled() ? torch::zeros_like(window_loss_) : window_loss_;
  window_start_ = start_;

  for (int64_t step = state_.step + 1; step <= total_steps_; ++step) {
    const double lr = learning_rate(options_, step - 1, total_steps_);
    if (!train_step(step, lr)) return stop_after(step - 1);
    evaluate_during_training(step);
    if (stopped_early_) {
      total_steps_ = step;
      break;
    }
    sample_during_training(step);
    if (stop_wanted()) return stop_after(step);
    if (options_.checkpoint.every > 0 && step % options_.checkpoint.every == 0 && step != total_steps_) {
      outcome_.checkpoint = checkpoint_now();
    }
  }
  return finish();
}

// Each replica draws its own dropout masks (replica 0's stream is the one-process run's); the
// parts of one split model share theirs, so replicated activations get the same masks.
void TrainingRun::seed_and_pick_device() {
  const int replica = ranks_.replica;
  torch::manual_seed(derive_seed(seed_, replica == 0 ? "torch" : "torch/rank-" + std::to_string(replica)));
  if (options_.threads > 0) torch::set_num_threads(static_cast<int>(options_.threads));
  device_ = pick_device(options_.device);
  if (device_.is_cuda()) {
    compat::allow_tf32(options_.tf32);
    if (options_.assert_no_sync && !options_.pin_memory) {
      config_.fail("trainer.assert_no_sync", "needs trainer.pin_memory: a copy from pageable host memory waits for the GPU");
    }
  }
  open_energy_and_audit();
  const char* wait_policy = std::getenv("OMP_WAIT_POLICY");
  log::info("device: " + device_.str() + ", intra-op threads: " + std::to_string(torch::get_num_threads()) +
            (wait_policy ? std::string(", OMP_WAIT_POLICY=") + wait_policy : std::string()));
}

// Replicated stream: every rank builds the whole pipeline from the same files and seed (the
// stream is read once per rank, the reservoirs come out identical), and rank 0 alone records
// it. Sharded stream: replica r reads records r, r + R, ... into reservoirs and splits of its
// own (its parts alike), and each replica records its own rejects.
void TrainingRun::read_data() {
  const RankLayout& r = ranks_;
  data::DataContext context;
  context.seed = seed_;
  context.slice_fields = slice_fields(config_.eval.slices);
  if (r.sharded_stream) context.rank = r.replica, context.world_size = r.replica_count;
  if (r.primary) {
    context.rejects_path = run_dir_.file("rejects.jsonl");
  } else if (r.sharded_stream && r.first_part) {
    context.rejects_path = run_dir_.file("rejects.replica-" + std::to_string(r.replica) + ".jsonl");
  }
  data_ = data::read_sources(registry_.data_sources, config_.data, context);
  check_slices_against_data(config_, data_);
  if (r.sharded_stream && r.tensor) check_same_data_on_every_rank(r.tensor->group(), data_.pipeline_state, data_.manifest);
  if (!r.sharded_stream && r.everyone) check_same_data_on_every_rank(*r.everyone, data_.pipeline_state, data_.manifest);
  // A sharded stream's pipeline states (fixed once the stream is read) go into every checkpoint.
  if (r.sharded_stream) replica_states_ = gather_strings(*r.replicas, data_.pipeline_state);
  if (r.primary && !data_.manifest.empty()) run_dir_.write_file("manifest.json", data_.manifest);
  if (r.primary) run_dir_.write_file("reservoirs.json", reservoirs_json(data_));
  metrics_ = r.primary ? std::make_unique<MetricsWriter>(run_dir_.file("metrics.jsonl")) : std::make_unique<MetricsWriter>();
  if (r.primary && config_.logging.tensorboard) metrics_->attach_tensorboard(run_dir_.file("tensorboard"));
  for (const data::DriftEvent& e : data_.drift_events) metrics_->write(drift_event_record(e, 0));
  STRATUM_USER_CHECK(data_.seen.size() > 0, "data: the seen (training) split is empty");
}

// Build, transform (adapters, quantization, recomputation), then split across a tensor-parallel
// group: checkpoints hold the whole model, so a resumed one is loaded before it is split.
void TrainingRun::build_model(const std::string& checkpoint) {
  check_against_data(config_, registry_, data_.spec);
  model_ = stratum::build_model(registry_, config_.model, data_.spec);
  apply_model_transforms(registry_, *model_, config_);
  facts_ = models::model_facts(*model_);  // the whole model's, also where this rank holds a part
  if (ranks_.tensor) {
    if (!checkpoint.empty()) load_model_weights(checkpoint, *model_);
    log::info(ranks_.tensor->split(*model_));
  }
  model_->to(device_);
  model_->train();
  language_model_ = model_->is_language_model();
  pad_token_ = data_.spec.pad_token;
  if (config_.data.source == "token_shards" && !language_model_) {
    config_.fail("model.name", config_.model.name + " is not a language model; token shards train next-token prediction");
  }
  if (config_.data.pack == data::Pack::documents && !model_->packs_documents()) {
    config_.fail("data.pack", "documents needs a model that restarts attention at each document (gpt-*); " +
                                  config_.model.name + " does not");
  }
  log::info("model: " + config_.model.name + ", " + models::describe_model_facts(facts_) + "; task: " +
            (language_model_ ? "language modeling" : "classification"));
  check_sampling();
  optimizer_ = make_optimizer(options_, *model_, device_.is_cuda());
  if (uses_fused_adamw(options_, device_.is_cuda())) log::info("optimizer: AdamW, fused kernel");
  if (options_.ema.enabled()) average_ = std::make_unique<WeightAverage>(*model_, options_.ema.decay, options_.ema.start_step);
  if (!options_.early_stopping.metric.empty()) early_stopping_ = std::make_unique<EarlyStopping>(options_.early_stopping);
  if (options_.class_weights == ClassWeights::balanced) {
    const int64_t num_classes = config_.model.num_classes > 0 ? config_.model.num_classes : data_.spec.num_classes;
    std::vector<int64_t> counts = data_.label_counts.at("seen");
    counts.resize(static_cast<size_t>(num_classes), 0);
    class_weights_ = balanced_class_weights(counts).to(device_);
  }
  host_class_weights_ = class_weights_.defined() ? class_weights_.to(torch::kCPU) : torch::Tensor();
}

// Steps, batch sizes, and what a checkpoint must match to be resumed.
void TrainingRun::plan_steps() {
  const RankLayout& r = ranks_;
  // trainer.batch_size is per replica, as with DDP: a micro-batch is batch_size × replicas
  // examples (the parts of a split model all see their replica's examples).
  global_micro_batch_ = options_.batch_size * r.replica_count;
  if (stream_) {
    total_steps_ = options_.steps;  // 0: until the stream ends (at_end: stop) or a stop request
    // A checkpoint resumes only on the same input.
    state_.data_fingerprint = sha256_hex("continuous\n" + config_.data.source + "\n" + config_.data.path + "\n" +
                                         config_.data.continuous.listen);
    log::info("training: continuously, " + (total_steps_ > 0 ? std::to_string(total_steps_) + " steps" : std::string("open-ended")) +
              " of " + std::to_string(global_micro_batch_ * options_.grad_accum) + " examples drawn from the reservoirs (" +
              format_number(100 * config_.data.continuous.fresh_share) + "% from the freshest records)");
    plan_common();
    return;
  }
  int64_t seen_examples = data_.seen.size();  // over all replicas
  if (r.sharded_stream) {
    seen_examples = gather_rows(*r.replicas, torch::tensor({seen_examples}, torch::kInt64)).sum().item<int64_t>();
  }
  const int64_t micro_per_epoch = (seen_examples + global_micro_batch_ - 1) / global_micro_batch_;
  const int64_t steps_per_epoch = std::max<int64_t>(1, micro_per_epoch / options_.grad_accum);
  total_steps_ = options_.steps > 0 ? options_.steps : options_.epochs * steps_per_epoch;
  log::info("training: " + std::to_string(total_steps_) + " steps of " +
            std::to_string(global_micro_batch_ * options_.grad_accum) + " examples (" +
            std::to_string(steps_per_epoch) + " steps per epoch)" +
            (r.replica_count > 1 ? "; " + std::to_string(r.replica_count) + " data-parallel replicas of " +
                                       std::to_string(options_.batch_size) + " examples per micro-batch"
                                 : std::string()) +
            (language_model_ && !data_.spec.input_shape.empty()
                 ? "; " + std::to_string(data_.spec.input_shape[0]) + " tokens per example"
                 : std::string()));

  // What a checkpoint must match to be resumed: the same data (manifest and split sizes).
  state_.data_fingerprint = sha256_hex(data_.manifest + std::to_string(data_.seen.size()) + "/" +
                                       std::to_string(data_.validation.size()) + "/" + std::to_string(data_.unseen.size()));
  if (r.sharded_stream) {
    std::string all;
    for (const std::string& f : gather_strings(*r.replicas, state_.data_fingerprint)) all += f;
    state_.data_fingerprint = sha256_hex(all);
  }
  plan_common();
}

// What every run's checkpoints record and check: the config, data shape, job shape and loss scaling.
void TrainingRun::plan_common() {
  const RankLayout& r = ranks_;
  resolved_config_ = dump_config(config_);
  state_.config_sha256 = sha256_hex(resolved_config_);
  state_.data_spec = data_.spec;
  state_.world_size = r.world;
  state_.global_batch = global_micro_batch_ * options_.grad_accum;
  // fp16 needs dynamic loss scaling; bf16 has float32's range and needs none.
  scaler_ = std::make_unique<LossScaler>(options_.precision == Precision::fp16);
}

// Resume: the checkpoint must come from the same data, pipeline and stream layout; its step,
// data position, loss scale and random generators continue here.
void TrainingRun::restore(const std::string& checkpoint) {
  const RankLayout& r = ranks_;
  const TrainingState saved = load_training_checkpoint(checkpoint, r.tensor ? nullptr : model_.get(), *optimizer_);
  if (r.tensor) r.tensor->split_optimizer_state(*optimizer_);
  if (r.sharded_stream != !saved.replica_pipeline_sha256.empty() ||
      (r.sharded_stream && saved.replica_pipeline_sha256.size() != replica_states_.size())) {
    const auto describe = [](size_t shards) {
      return shards == 0 ? std::string("a replicated stream") : "a stream sharded over " + std::to_string(shards) + " replicas";
    };
    throw UserError(checkpoint + "/state.json: written by a job with " + describe(saved.replica_pipeline_sha256.size()) +
                    ", this job has " + describe(replica_states_.size()) + "; each replica's reservoirs come from its "
                    "shard, so resume with the same distributed.stream and number of replicas");
  }
  if (saved.data_fingerprint != state_.data_fingerprint) {
    throw UserError(checkpoint + "/state.json: the data differs from the data this checkpoint was trained on "
                                 "(manifest or split sizes changed); resume with the same data and data.* settings");
  }
  if (saved.config_sha256 != state_.config_sha256) {
    log::warn("resume: the config differs from the checkpoint's (" + checkpoint + "/config.resolved.yaml)");
  }
  const std::string& saved_pipeline = r.sharded_stream ? saved.replica_pipeline_sha256[static_cast<size_t>(r.replica)]
                                                       : saved.pipeline_sha256;
  if (!saved_pipeline.empty() && saved_pipeline != sha256_hex(data_.pipeline_state)) {
    throw UserError(checkpoint + "/data_state.bin: the data pipeline rebuilt from the files (reservoirs, held-out "
                                 "records, random streams) differs from the one this checkpoint saved");
  }
  check_resumable_world(checkpoint, saved, state_);
  state_.step = saved.step;
  state_.batches = saved.batches;
  if (average_) {
    const std::vector<torch::Tensor> averaged = load_checkpoint_tensors(checkpoint, "ema");
    if (averaged.empty()) {
      log::warn("resume: " + checkpoint + " has no ema.pt (trained without trainer.ema); the average starts from its weights");
    } else {
      average_->restore(averaged, checkpoint + "/ema.pt");
    }
  }
  if (early_stopping_ && saved.early_stopping_best_step > 0) {
    early_stopping_->restore(saved.early_stopping_best, saved.early_stopping_best_step, saved.early_stopping_waited);
    if (options_.early_stopping.restore_best) best_weights_ = load_checkpoint_tensors(checkpoint, "early_stopping_best");
  }
  scaler_->restore(saved.loss_scale, saved.loss_scale_clean_steps, saved.skipped_steps);
  if (const torch::Tensor generators = load_rank_generators(checkpoint); generators.defined()) {
    // Rank r's stream when the job has the same shape; otherwise the first replica continues
    // rank 0's (all its parts alike) and the others keep their fresh streams.
    const int64_t row = saved.world_size == r.world ? r.rank : r.replica == 0 ? 0 : -1;
    if (row >= 0 && row < generators.size(0)) {
      set_generator_state_bytes(generators[row], checkpoint + "/rng_ranks.pt");
    } else {
      log::warn("resume: " + checkpoint + " has no random generator state for rank " + std::to_string(r.rank) +
                "; its dropout stream starts afresh");
    }
  }
  log::info("resumed from " + checkpoint + " at step " + std::to_string(state_.step));
}

// Replicas start equal (rank 0's weights) and stay equal: every rank applies the same
// averaged gradients through the same optimizer state.
void TrainingRun::connect_replicas() {
  if (ranks_.replicas) {
    gradient_sync_ = ranks_.replicas->data_parallel(*model_, static_cast<int64_t>(config_.distributed.bucket_mb * 1e6));
  }
}

// Every rank takes part (its random generators are gathered; replica 0's parts gather the
// split model and optimizer state whole); rank 0 writes.
std::string TrainingRun::save_checkpoint(const std::string& root, int64_t keep_last) {
  const RankLayout& r = ranks_;
  if (stream_) data_.pipeline_state = continuous_state();
  const bool gathers_whole = r.tensor && r.replica == 0;
  state_.loss_scale = scaler_->factor();
  state_.loss_scale_clean_steps = scaler_->clean_steps();
  state_.skipped_steps = scaler_->skipped_steps();
  torch::Tensor generators;
  if (r.everyone) generators = gather_rows(*r.everyone, generator_state_bytes());
  if (gathers_whole) r.tensor->gather_whole(optimizer_.get());
  if (early_stopping_) {
    state_.early_stopping_best = early_stopping_->best();
    state_.early_stopping_best_step = early_stopping_->best_step();
    state_.early_stopping_waited = early_stopping_->waited();
  }
  std::string dir;
  if (r.primary) {
    CheckpointExtras extras;
    extras.rank_generators = r.everyone ? &generators : nullptr;
    extras.replica_pipeline_states = r.sharded_stream ? &replica_states_ : nullptr;
    if (average_) extras.tensor_lists["ema"] = average_->tensors();
    if (!best_weights_.empty()) extras.tensor_lists["early_stopping_best"] = best_weights_;
    dir = save_training_checkpoint(root, state_, *model_, *optimizer_, resolved_config_, data_.pipeline_state, keep_last,
                                   extras);
    if (audit_) audit_->checkpoint_committed(state_.step, dir);
  }
  if (gathers_whole) r.tensor->restore_split();
  return dir;
}

void TrainingRun::open_energy_and_audit() {
  if (!ranks_.primary) return;
  energy_ = EnergyMeter::open("/sys/class/powercap", device_.is_cuda());
  log::info(energy_->available() ? "energy: measured by " + energy_->describe()
                                 : "energy: not measurable here (" + energy_->unavailable_reason() + ")");
  if (config_.audit.enabled) audit_ = std::make_unique<audit::RunAudit>(config_, run_dir_.path());
}

std::string TrainingRun::energy_json(const std::vector<SplitEvaluation>* final_evaluations) const {
  nlohmann::ordered_json out;
  const std::optional<double> total = energy_ ? energy_->joules() : std::nullopt;
  if (!total) {
    out["joules"] = nullptr;
    out["reason"] = "not measurable here (" + (energy_ ? energy_->unavailable_reason() : std::string("not the primary rank")) + ")";
    return out.dump();
  }
  double evaluation = 0;
  if (final_evaluations) {
    for (const SplitEvaluation& e : *final_evaluations) {
      if (!std::isnan(e.energy_joules)) evaluation += e.energy_joules;
    }
  }
  out["measured_by"] = energy_->describe();
  out["scope"] = "the whole machine's counters (RAPL: CPU packages; NVML: the GPUs in use)";
  out["joules"] = *total;
  out["training_joules"] = *total - evaluation;
  out["final_evaluation_joules"] = evaluation;
  const char* unit = language_model_ ? "tokens" : "samples";
  out[std::string(unit) + "_trained"] = trained_units_;
  out[std::string("joules_per_training_") + (language_model_ ? "token" : "sample")] =
      trained_units_ > 0 ? nlohmann::ordered_json((*total - evaluation) / trained_units_) : nlohmann::ordered_json(nullptr);
  return out.dump();
}

std::string TrainingRun::checkpoint_now() {
  return save_checkpoint(run_dir_.file("checkpoints"), options_.checkpoint.keep_last);
}

// checkpoints/best/step-N holds the best evaluation so far by trainer.checkpoint.best_metric.
// checkpoints/best/step-N holds the best evaluation so far by trainer.checkpoint.best_metric, or
// without one, by early stopping's judgement (its metric, direction and min_delta).
void TrainingRun::consider_best(const std::vector<SplitEvaluation>& evaluations, bool early_best) {
  const std::string& best_metric = options_.checkpoint.best_metric;
  double value = std::nan("");
  if (best_metric.empty()) {
    if (!early_best) return;
    value = early_stopping_->best();
  } else {
    value = metric_value(evaluations, best_metric);
    const bool lower = lower_is_better(best_metric);
    if (std::isnan(value) || (!std::isnan(best_value_) && (lower ? value >= best_value_ : value <= best_value_))) return;
    best_value_ = value;
  }
  const std::string dir = save_checkpoint(run_dir_.file("checkpoints/best"), 1);
  const std::string& metric = best_metric.empty() ? options_.early_stopping.metric : best_metric;
  if (ranks_.primary) log::info("best " + metric + " so far (" + format_number(value) + "): " + dir);
}

}  // namespace stratum::training
