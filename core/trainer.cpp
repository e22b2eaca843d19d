#include "core/trainer.h"

#include <torch/torch.h>

#include <cstdlib>

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/language_modeling.h"
#include "core/loss_scaler.h"
#include "core/log.h"
#include "core/lr_schedule.h"
#include "core/metrics_writer.h"
#include "core/optimizer.h"
#include "core/preflight.h"
#include "core/progress.h"
#include "core/registry.h"
#include "core/report/run_report.h"
#include "core/run_dir.h"
#include "core/system_info.h"
#include "core/tensor_parallelism.h"
#include "core/sha256.h"
#include "core/stop_signal.h"
#include "core/text.h"
#include "core/torch_compat.h"
#include "core/training_checkpoint.h"
#include "data/hash.h"
#include "data/loader.h"

namespace stratum {
namespace {

// Below this fp16 loss scale even unscaled gradients overflow: training cannot recover.
constexpr double kMinLossScale = 1.0 / 16384;

// Seeds one named random stream from the run seed, so adding a stream never shifts another.
uint64_t derive_seed(uint64_t seed, const std::string& stream) {
  return data::splitmix64(seed ^ data::content_hash(stream.data(), stream.size()));
}

torch::Device pick_device(const std::string& wanted) {
  if (wanted == "cuda" || (wanted == "auto" && torch::cuda::is_available())) return torch::Device(torch::kCUDA);
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
  if (language_model) return static_cast<double>(scored_tokens(batch.inputs, pad_token).item<int64_t>());
  if (class_weights.defined()) return class_weights.index_select(0, batch.targets).sum().item<double>();
  return static_cast<double>(batch.size());
}

}  // namespace

TrainingOutcome train(const RunConfig& config, const Registry& registry, const RunDir& run_dir,
                      const std::string& resume_from, const ParallelGroups* groups) {
  const TrainerSection& options = config.trainer;
  const uint64_t seed = static_cast<uint64_t>(config.run.seed);
  Collectives* const everyone = groups ? groups->world : nullptr;
  Collectives* const collectives = groups ? groups->data : nullptr;  // this rank's data-parallel replicas
  TensorParallelism* const tensor = groups ? groups->tensor : nullptr;
  const int rank = everyone ? everyone->rank() : 0;
  const int world = everyone ? everyone->world_size() : 1;
  const int replica = collectives ? collectives->rank() : 0;
  const int replicas = collectives ? collectives->world_size() : 1;
  const int parts = tensor ? tensor->group().world_size() : 1;
  const bool primary = rank == 0;
  // Each replica draws its own dropout masks (replica 0's stream is the one-process run's); the
  // parts of one split model share theirs, so replicated activations get the same masks.
  torch::manual_seed(derive_seed(seed, replica == 0 ? "torch" : "torch/rank-" + std::to_string(replica)));
  if (options.threads > 0) torch::set_num_threads(static_cast<int>(options.threads));
  const torch::Device device = pick_device(options.device);
  const char* wait_policy = std::getenv("OMP_WAIT_POLICY");
  log::info("device: " + device.str() + ", intra-op threads: " + std::to_string(torch::get_num_threads()) +
            (wait_policy ? std::string(", OMP_WAIT_POLICY=") + wait_policy : std::string()));

  // Replicated stream: every rank builds the whole pipeline from the same files and seed (the
  // stream is read once per rank, the reservoirs come out identical), and rank 0 alone records
  // it. Sharded stream: replica r reads records r, r + R, ... into reservoirs and splits of its
  // own (its parts alike), and each replica records its own rejects.
  const bool sharded_stream = replicas > 1 && config.distributed.stream == "sharded";
  const bool first_part = !tensor || tensor->group().rank() == 0;
  data::DataContext context;
  context.seed = seed;
  if (sharded_stream) context.rank = replica, context.world_size = replicas;
  if (primary) {
    context.rejects_path = run_dir.file("rejects.jsonl");
  } else if (sharded_stream && first_part) {
    context.rejects_path = run_dir.file("rejects.replica-" + std::to_string(replica) + ".jsonl");
  }
  const data::SplitData data = registry.data_sources.find(config.data.source)->build(config.data, context);
  if (sharded_stream && tensor) check_same_data_on_every_rank(tensor->group(), data.pipeline_state, data.manifest);
  if (!sharded_stream && everyone) check_same_data_on_every_rank(*everyone, data.pipeline_state, data.manifest);
  // A sharded stream's pipeline states (fixed once the stream is read) go into every checkpoint.
  const std::vector<std::string> replica_states =
      sharded_stream ? gather_strings(*collectives, data.pipeline_state) : std::vector<std::string>{};
  if (primary && !data.manifest.empty()) run_dir.write_file("manifest.json", data.manifest);
  if (primary) run_dir.write_file("reservoirs.json", reservoirs_json(data));
  MetricsWriter metrics = primary ? MetricsWriter(run_dir.file("metrics.jsonl")) : MetricsWriter();
  if (primary && config.logging.tensorboard) metrics.attach_tensorboard(run_dir.file("tensorboard"));
  for (const data::DriftEvent& e : data.drift_events) {
    MetricRecord record{"event", 0, {}, {}};
    record.add("event", std::string("drift"))
        .add("statistic", e.statistic)
        .add("subject", e.subject)
        .add("record", static_cast<double>(e.record))
        .add("value", e.value)
        .add("threshold", e.threshold);
    metrics.write(record);
  }
  STRATUM_USER_CHECK(data.seen.size() > 0, "data: the seen (training) split is empty");
  const int64_t num_classes = config.model.num_classes > 0 ? config.model.num_classes : data.spec.num_classes;

  check_against_data(config, registry, data.spec);
  models::ModelPtr model = build_model(registry, config.model, data.spec);
  apply_model_transforms(registry, *model, config);
  const std::string checkpoint = resume_from.empty() ? "" : resolve_checkpoint(resume_from);
  ModelFacts facts = model_facts(*model);  // the whole model's, also where this rank holds a part
  if (tensor) {
    // Checkpoints hold the whole model: it is loaded, then split like a fresh one.
    if (!checkpoint.empty()) load_model_weights(checkpoint, *model);
    log::info(tensor->split(*model));
  }
  model->to(device);
  model->train();
  const bool language_model = model->is_language_model();
  const int64_t pad_token = data.spec.pad_token;
  log::info("model: " + config.model.name + ", " + describe_model_facts(facts) + "; task: " +
            (language_model ? "language modeling" : "classification"));

  auto optimizer = make_optimizer(options, *model);
  torch::Tensor class_weights;
  if (options.class_weights == "balanced") {
    std::vector<int64_t> counts = data.label_counts.at("seen");
    counts.resize(static_cast<size_t>(num_classes), 0);
    class_weights = balanced_class_weights(counts).to(device);
  }
  const torch::Tensor host_class_weights = class_weights.defined() ? class_weights.to(torch::kCPU) : torch::Tensor();
  // trainer.batch_size is per replica, as with DDP: a micro-batch is batch_size × replicas
  // examples (the parts of a split model all see their replica's examples).
  const int64_t global_micro_batch = options.batch_size * replicas;
  int64_t seen_examples = data.seen.size();  // over all replicas
  if (sharded_stream) seen_examples = gather_rows(*collectives, torch::tensor({seen_examples}, torch::kInt64)).sum().item<int64_t>();
  const int64_t micro_per_epoch = (seen_examples + global_micro_batch - 1) / global_micro_batch;
  const int64_t steps_per_epoch = std::max<int64_t>(1, micro_per_epoch / options.grad_accum);
  const int64_t total_steps = options.steps > 0 ? options.steps : options.epochs * steps_per_epoch;
  log::info("training: " + std::to_string(total_steps) + " steps of " +
            std::to_string(global_micro_batch * options.grad_accum) + " examples (" +
            std::to_string(steps_per_epoch) + " steps per epoch)" +
            (replicas > 1 ? "; " + std::to_string(replicas) + " data-parallel replicas of " +
                             std::to_string(options.batch_size) + " examples per micro-batch"
                       : std::string()));

  // What a checkpoint must match to be resumed: the same data (manifest and split sizes).
  TrainingState state;
  state.data_fingerprint = sha256_hex(data.manifest + std::to_string(data.seen.size()) + "/" +
                                      std::to_string(data.validation.size()) + "/" + std::to_string(data.unseen.size()));
  if (sharded_stream) {
    std::string all;
    for (const std::string& f : gather_strings(*collectives, state.data_fingerprint)) all += f;
    state.data_fingerprint = sha256_hex(all);
  }
  const std::string resolved_config = dump_config(config);
  state.config_sha256 = sha256_hex(resolved_config);
  state.data_spec = data.spec;
  state.world_size = world;
  state.global_batch = global_micro_batch * options.grad_accum;
  // fp16 needs dynamic loss scaling; bf16 has float32's range and needs none.
  LossScaler scaler(options.precision == "fp16");
  if (!checkpoint.empty()) {
    const TrainingState saved = load_training_checkpoint(checkpoint, tensor ? nullptr : model.get(), *optimizer);
    if (tensor) tensor->split_optimizer_state(*optimizer);
    if (sharded_stream != !saved.replica_pipeline_sha256.empty() ||
        (sharded_stream && saved.replica_pipeline_sha256.size() != replica_states.size())) {
      const auto describe = [](size_t shards) {
        return shards == 0 ? std::string("a replicated stream") : "a stream sharded over " + std::to_string(shards) + " replicas";
      };
      throw UserError(checkpoint + "/state.json: written by a job with " + describe(saved.replica_pipeline_sha256.size()) +
                      ", this job has " + describe(replica_states.size()) + "; each replica's reservoirs come from its "
                      "shard, so resume with the same distributed.stream and number of replicas");
    }
    if (saved.data_fingerprint != state.data_fingerprint) {
      throw UserError(checkpoint + "/state.json: the data differs from the data this checkpoint was trained on "
                                   "(manifest or split sizes changed); resume with the same data and data.* settings");
    }
    if (saved.config_sha256 != state.config_sha256) {
      log::warn("resume: the config differs from the checkpoint's (" + checkpoint + "/config.resolved.yaml)");
    }
    const std::string& saved_pipeline = sharded_stream ? saved.replica_pipeline_sha256[static_cast<size_t>(replica)]
                                                       : saved.pipeline_sha256;
    if (!saved_pipeline.empty() && saved_pipeline != sha256_hex(data.pipeline_state)) {
      throw UserError(checkpoint + "/data_state.bin: the data pipeline rebuilt from the files (reservoirs, held-out "
                                   "records, random streams) differs from the one this checkpoint saved");
    }
    check_resumable_world(checkpoint, saved, state);
    state.step = saved.step;
    state.batches = saved.batches;
    scaler.restore(saved.loss_scale, saved.loss_scale_clean_steps, saved.skipped_steps);
    if (const torch::Tensor generators = load_rank_generators(checkpoint); generators.defined()) {
      // Rank r's stream when the job has the same shape; otherwise the first replica continues
      // rank 0's (all its parts alike) and the others keep their fresh streams.
      const int64_t row = saved.world_size == world ? rank : replica == 0 ? 0 : -1;
      if (row >= 0 && row < generators.size(0)) {
        set_generator_state_bytes(generators[row], checkpoint + "/rng_ranks.pt");
      } else {
        log::warn("resume: " + checkpoint + " has no random generator state for rank " + std::to_string(rank) +
                  "; its dropout stream starts afresh");
      }
    }
    log::info("resumed from " + checkpoint + " at step " + std::to_string(state.step));
  }
  // Replicas start equal (rank 0's weights) and stay equal: every rank applies the same
  // averaged gradients through the same optimizer state.
  std::unique_ptr<GradientSynchronizer> gradient_sync;
  if (collectives) {
    gradient_sync = collectives->data_parallel(*model, static_cast<int64_t>(config.distributed.bucket_mb * 1e6));
  }
  const std::string checkpoints = run_dir.file("checkpoints");
  const auto sync_scaler_state = [&]() {
    state.loss_scale = scaler.factor();
    state.loss_scale_clean_steps = scaler.clean_steps();
    state.skipped_steps = scaler.skipped_steps();
  };
  // Every rank takes part (its random generators are gathered; replica 0's parts gather the
  // split model and optimizer state whole); rank 0 writes.
  const bool gathers_whole = tensor && replica == 0;
  const auto save_checkpoint = [&](const std::string& root, int64_t keep_last) -> std::string {
    sync_scaler_state();
    torch::Tensor generators;
    if (everyone) generators = gather_rows(*everyone, generator_state_bytes());
    if (gathers_whole) tensor->gather_whole(optimizer.get());
    std::string dir;
    if (primary) {
      dir = save_training_checkpoint(root, state, *model, *optimizer, resolved_config, data.pipeline_state, keep_last,
                                     everyone ? &generators : nullptr, sharded_stream ? &replica_states : nullptr);
    }
    if (gathers_whole) tensor->restore_split();
    return dir;
  };
  const auto checkpoint_now = [&]() { return save_checkpoint(checkpoints, options.checkpoint.keep_last); };
  // checkpoints/best/step-N holds the best evaluation so far by trainer.checkpoint.best_metric.
  const std::string& best_metric = options.checkpoint.best_metric;
  double best_value = std::nan("");
  const auto consider_best = [&](const std::vector<SplitEvaluation>& evaluations) {
    if (best_metric.empty()) return;
    const double value = metric_value(evaluations, best_metric);
    const bool lower = lower_is_better(best_metric);
    if (std::isnan(value) || (!std::isnan(best_value) && (lower ? value >= best_value : value <= best_value))) return;
    best_value = value;
    const std::string dir = save_checkpoint(run_dir.file("checkpoints/best"), 1);
    if (primary) log::info("best " + best_metric + " so far (" + format_number(value) + "): " + dir);
  };

  // Replicated: each replica takes its share of every global batch; sharded: a whole batch
  // of its own split.
  data::Loader sampler(data.seen, {sharded_stream ? options.batch_size : global_micro_batch, derive_seed(seed, "shuffle"),
                                  config.data.prefetch, state.batches, sharded_stream ? 0 : replica,
                                  sharded_stream ? 1 : replicas});
  const double start = monotonic_seconds();
  const Progress progress(total_steps, start, language_model ? "tokens" : "samples");
  TrainingOutcome outcome;

  // The loss is summed on the device and read back only when a line is logged, so the loop
  // does not synchronise with the host every step.
  torch::Tensor window_loss = torch::zeros({}, torch::TensorOptions().dtype(torch::kFloat64).device(device));
  int64_t window_steps = 0, window_samples = 0;  // window_steps: steps whose loss counts (not skipped)
  // With fp16 a step's loss is held apart until its gradients are known to be finite; otherwise
  // it goes straight into the window.
  torch::Tensor step_loss = scaler.enabled() ? torch::zeros_like(window_loss) : window_loss;
  double window_start = start;
  bool first_window = true;

  bool stop_agreed = false;  // multi-process: some rank was asked to stop (carried by the normalizer all-reduce)
  const auto stop_wanted = [&] { return world > 1 ? stop_agreed : stop_requested(); };
  // Checkpoints the last completed step and ends the run as interrupted.
  const auto stop_after = [&](int64_t completed) {
    log::end_status();
    outcome.checkpoint = checkpoint_now();
    outcome.interrupted = true;
    outcome.steps = completed;
    if (primary) {
      log::info("stopped by signal after step " + std::to_string(completed) + "; checkpoint " + outcome.checkpoint);
      log::info("report: " + report::write_run_report(run_dir.path()));
    }
    return outcome;
  };
  for (int64_t step = state.step + 1; step <= total_steps; ++step) {
    const double lr = learning_rate(options, step - 1, total_steps);
    set_learning_rate(*optimizer, lr);
    optimizer->zero_grad();
    if (scaler.enabled()) step_loss.zero_();
    // A step of many micro-batches can take long: a stop request between them abandons it (no
    // update applied, data position and random generators back to the step's start), so the
    // checkpoint is the last complete step's and a resumed run repeats this one whole.
    const int64_t step_start_batches = state.batches;
    const torch::Tensor step_start_generators = options.grad_accum > 1 ? generator_state_bytes() : torch::Tensor();
    for (int64_t micro = 0; micro < options.grad_accum; ++micro) {
      if (micro > 0 && stop_wanted()) {
        state.batches = step_start_batches;
        set_generator_state_bytes(step_start_generators, "the abandoned step's start");
        return stop_after(step - 1);
      }
      const data::Batch host_batch = sampler.next();
      // no_sync: only the last micro-batch's backward reduces (the accumulated) gradients.
      if (gradient_sync) gradient_sync->set_sync(micro + 1 == options.grad_accum);
      ++state.batches;
      // Each replica's loss is a mean over its shard (over tokens for a language model, weighted
      // by class when balanced), and gradients are averaged over ranks; scaling a shard's loss
      // by its share of the global batch's normalizer makes that average the gradient of the
      // global batch's mean loss. The normalizers are summed while the forward pass runs.
      // The all-reduce spans every rank (each part of a split model adds its replica's
      // normalizer) and carries each rank's stop flag: a SIGINT / SIGTERM reaches the ranks
      // at different moments, and they must stop after the same step or one would be left
      // waiting in a collective.
      double shard_share = 0;
      torch::Tensor global_terms;  // (normalizer, ranks asked to stop), summed over ranks
      std::unique_ptr<PendingCollective> summing;
      if (world > 1) {
        shard_share = loss_normalizer(host_batch, language_model, pad_token, host_class_weights);
        global_terms = torch::tensor({shard_share, stop_requested() ? 1.0 : 0.0}, torch::kFloat64);
        summing = everyone->all_reduce_sum_async(global_terms);
      }
      // Waits for the sums; returns the global normalizer (each replica's counted once).
      const auto settle = [&] {
        summing->wait();
        stop_agreed = stop_agreed || global_terms[1].item<double>() > 0;
        return global_terms[0].item<double>() / parts;
      };
      // A rank's shard of a short last batch of an epoch may be empty; its gradient is zero.
      if (host_batch.size() == 0) {
        if (summing) settle();
        continue;
      }
      // Throughput counts what the model learns from: examples, or real (non-padding) tokens.
      window_samples += language_model && pad_token >= 0 ? host_batch.inputs.ne(pad_token).sum().item<int64_t>()
                        : language_model                 ? host_batch.inputs.numel()
                                                         : host_batch.size();
      const data::Batch batch = host_batch.to(device);
      torch::Tensor logits;
      if (options.precision != "fp32") {
        // Forward in bfloat16 / float16 where autocast allows; the loss and the fp32 master
        // weights stay fp32.
        const compat::AutocastScope autocast(device.is_cuda(), /*half=*/options.precision == "fp16");
        logits = model->forward(batch);
      } else {
        logits = model->forward(batch);
      }
      torch::Tensor loss =
          !language_model ? classification_loss(logits.to(torch::kFloat32), batch.targets, options.label_smoothing, class_weights)
          : tensor        ? tensor->next_token_loss(logits.to(torch::kFloat32), batch.inputs, pad_token)
                          : next_token_loss(logits.to(torch::kFloat32), batch.inputs, pad_token);
      // Ranks' gradients are averaged, so a shard's loss counts by its share of the global
      // batch: the average is then the gradient of the global batch's mean loss.
      if (world > 1) loss = loss * (shard_share * replicas / std::max(1e-12, settle()));
      scaler.scale(loss / static_cast<double>(options.grad_accum)).backward();
      step_loss += loss.detach().to(torch::kFloat64) / static_cast<double>(options.grad_accum);
    }
    if (gradient_sync) gradient_sync->finish();
    double grad_norm = 0;
    // With fp16, gradients are unscaled before clipping, and a step whose gradients overflowed
    // is skipped (the scaler backs off) rather than applied.
    bool finite = scaler.unscale(model->parameters());
    if (tensor && scaler.enabled()) {
      // The parts of a split model see different gradients; they skip a step together or not at all.
      torch::Tensor overflowed = torch::tensor({finite ? 0.0 : 1.0}, torch::TensorOptions().dtype(torch::kFloat32).device(device));
      tensor->group().all_reduce_max(overflowed);
      finite = overflowed.item<double>() == 0;
    }
    if (finite) {
      if (options.clip_grad_norm > 0) {
        grad_norm = tensor ? tensor->clip_gradient_norm(*model, options.clip_grad_norm)
                           : torch::nn::utils::clip_grad_norm_(model->parameters(), options.clip_grad_norm);
      }
      optimizer->step();
      if (scaler.enabled()) window_loss += step_loss;
      ++window_steps;
    }
    scaler.update(finite);
    if (scaler.enabled() && scaler.factor() < kMinLossScale) {
      throw UserError("trainer: fp16 gradients overflow even at loss scale " + format_number(scaler.factor()) +
                      " (step " + std::to_string(step) + "); use trainer.precision: bf16 or lower trainer.lr");
    }
    state.step = step;

    if (step == 1 || step % config.logging.every == 0 || step == total_steps) {
      const double now = monotonic_seconds();
      double loss_sum = window_loss.item<double>();
      double samples = static_cast<double>(window_samples);
      if (collectives) {
        // The global batch's loss (ranks' weighted losses average to it) and all ranks' samples.
        torch::Tensor totals = torch::tensor({loss_sum / replicas, samples}, torch::kFloat64);
        collectives->all_reduce_sum(totals);
        loss_sum = totals[0].item<double>();
        samples = totals[1].item<double>();
      }
      // A window of only skipped fp16 steps has no loss to report (null in metrics.jsonl).
      const double loss = window_steps > 0 ? loss_sum / static_cast<double>(window_steps) : std::nan("");
      const double throughput = samples / std::max(1e-9, now - window_start);
      if (!std::isfinite(loss) && window_steps > 0) {
        throw UserError("trainer: the training loss became " + std::to_string(loss) + " at step " +
                        std::to_string(step) + "; lower trainer.lr or enable trainer.clip_grad_norm");
      }
      if (window_steps > 0) {
        if (first_window) outcome.first_loss = loss;
        first_window = false;
        outcome.last_loss = loss;
      }
      MetricRecord record{"train", step, {}, {}};
      record.add("epoch", static_cast<double>(sampler.epoch()))
          .add("loss", loss)
          .add("lr", lr)
          .add("grad_norm", grad_norm)
          .add("samples_per_second", throughput);
      if (scaler.enabled()) {
        record.add("loss_scale", scaler.factor()).add("skipped_steps", static_cast<double>(scaler.skipped_steps()));
      }
      metrics.write(record);
      if (primary) log::status(progress.line(step, loss, lr, throughput, now));
      window_loss.zero_();
      window_steps = window_samples = 0;
      window_start = now;
    }
    if (config.eval.every > 0 && step % config.eval.every == 0 && step != total_steps) {
      if (gradient_sync) gradient_sync->share_buffers();
      const std::vector<SplitEvaluation> evaluations =
          evaluate_all(*model, data, config, device, nullptr, collectives, sharded_stream);
      for (const auto& e : evaluations) log_evaluation(e, step, metrics);
      consider_best(evaluations);
    }
    if (stop_wanted()) return stop_after(step);
    if (options.checkpoint.every > 0 && step % options.checkpoint.every == 0 && step != total_steps) {
      outcome.checkpoint = checkpoint_now();
    }
  }
  log::end_status();
  outcome.checkpoint = checkpoint_now();
  outcome.steps = total_steps;
  outcome.unseen_description = data.unseen_description;
  outcome.seconds = monotonic_seconds() - start;
  log::info("trained " + std::to_string(total_steps) + " steps in " + format_duration(outcome.seconds));

  OpenSetScores open_set;
  if (collectives) check_copies_agree(*collectives, model->parameters(), "data parallel replicas");
  if (tensor) check_copies_agree(tensor->group(), tensor->unsplit_parameters(*model), "tensor parallel parts");
  if (gradient_sync) gradient_sync->share_buffers();
  outcome.final_evaluation = evaluate_all(*model, data, config, device, &open_set, collectives, sharded_stream);
  for (const auto& e : outcome.final_evaluation) log_evaluation(e, total_steps, metrics);
  consider_best(outcome.final_evaluation);
  // The adapters' files (save_transform_artifacts) hold whole tensors too.
  if (gathers_whole) tensor->gather_whole(nullptr);
  if (!primary) {
    if (gathers_whole) tensor->restore_split();
    return outcome;
  }
  facts.peak_rss_bytes = peak_rss_bytes();
  if (device.is_cuda()) facts.peak_cuda_allocated_bytes = compat::cuda_peak_allocated_bytes(device.index() < 0 ? 0 : device.index());
  run_dir.write_file("eval.json",
                     evaluation_json(outcome.final_evaluation, language_model ? std::vector<std::string>{} : data.spec.class_names, facts, total_steps, open_set));
  save_transform_artifacts(registry, *model, config, run_dir.path());
  if (gathers_whole) tensor->restore_split();
  log::info("report: " + report::write_run_report(run_dir.path()));
  return outcome;
}

}  // namespace stratum
