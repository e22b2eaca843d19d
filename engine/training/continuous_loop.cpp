// Continuous training (trainer.mode: continuous): the stream keeps flowing into the reservoirs
// while the model trains. Each step takes what has arrived, scores it with the model as it is
// (test-then-train), admits it into the splits, and trains on a batch drawn from the reservoirs
// and the freshest records. Checkpoints carry the stream's committed position with the
// reservoirs, so a resumed run continues exactly after the last record it had taken.

#include <torch/torch.h>

#include <filesystem>
#include <sstream>

#include "core/error.h"
#include "core/log.h"
#include "core/sha256.h"
#include "core/system_info.h"
#include "core/text.h"
#include "data/binary_io.h"
#include "data/continuous/continuous_stream.h"
#include "engine/classification.h"
#include "engine/continuous/prequential.h"
#include "engine/continuous/promotion_gate.h"
#include "engine/audit/run_audit.h"
#include "engine/lr_schedule.h"
#include "engine/progress.h"
#include "engine/run_dir.h"
#include "engine/slices/slice_grouping.h"
#include "engine/stop_signal.h"
#include "engine/training/training_helpers.h"
#include "engine/training/training_run.h"
#include "engine/training_checkpoint.h"

namespace stratum::training {
namespace {

// A resumed run's rejects.jsonl starts as the checkpointed run's (the stream cuts it back to
// what that run had written at the checkpoint), so one file lists every rejected line once.
void carry_rejects(const std::string& checkpoint, const std::string& into) {
  namespace fs = std::filesystem;
  std::error_code error;
  for (fs::path dir = fs::path(checkpoint).parent_path(); !dir.empty() && dir != dir.root_path(); dir = dir.parent_path()) {
    if (fs::exists(dir / "rejects.jsonl", error)) {
      fs::copy_file(dir / "rejects.jsonl", into, fs::copy_options::overwrite_existing, error);
      if (error) throw UserError(into + ": cannot carry over " + (dir / "rejects.jsonl").string() + ": " + error.message());
      return;
    }
    if (fs::exists(dir / "config.resolved.yaml", error)) break;  // the run directory, without rejects
  }
  log::warn("resume: no rejects.jsonl next to " + checkpoint + "; rejected lines before the checkpoint are not listed");
}

}  // namespace

TrainingOutcome TrainingRun::run_continuous(const std::string& resume_from) {
  seed_and_pick_device();
  const std::string checkpoint = resume_from.empty() ? "" : resolve_checkpoint(resume_from);
  open_stream(checkpoint);
  if (!warm_up()) {
    outcome_.interrupted = true;
    log::info("stopped by signal before training started; nothing to checkpoint");
    return outcome_;
  }
  data_.spec = stream_->spec();
  refresh_held_out();
  build_model(checkpoint);
  plan_steps();
  if (!checkpoint.empty()) restore(checkpoint);
  connect_replicas();
  if (audit_) audit_->run_started(data_.manifest, checkpoint);
  start_ = monotonic_seconds();
  progress_ = std::make_unique<Progress>(total_steps_, start_, "samples");
  window_loss_ = torch::zeros({}, torch::TensorOptions().dtype(torch::kFloat64).device(device_));
  step_loss_ = scaler_->enabled() ? torch::zeros_like(window_loss_) : window_loss_;
  window_start_ = start_;
  window_stream_accepted_ = stream_->counters().accepted;

  const bool stop_at_end = config_.data.continuous.at_end == data::AtEnd::stop;
  for (int64_t step = state_.step + 1; total_steps_ == 0 || step <= total_steps_; ++step) {
    if (!stream_ended_ && !take_and_admit(step)) return stop_after(step - 1);
    const double lr = learning_rate(options_, step - 1, total_steps_);
    if (!train_step(step, lr)) return stop_after(step - 1);
    evaluate_during_training(step);
    if (stop_wanted()) return stop_after(step);
    const bool last = stream_ended_ && stop_at_end;
    if (options_.checkpoint.every > 0 && step % options_.checkpoint.every == 0 && !last) {
      outcome_.checkpoint = checkpoint_now();
    }
    if (last) {
      log::end_status();
      log::info("the stream ended after " + std::to_string(stream_->counters().read) + " records; stopping (data.continuous.at_end: stop)");
      total_steps_ = step;
      break;
    }
  }
  if (total_steps_ == 0) total_steps_ = state_.step;
  return finish();
}

// The stream opens at the checkpoint's committed position; the splits' state, the prequential
// window in progress and the standardization come back with it.
void TrainingRun::open_stream(const std::string& checkpoint) {
  const RankLayout& r = ranks_;
  if (r.world > 1) {
    // Every replica reads the whole stream and admits the same records at the same steps, so
    // the reservoirs and draws agree; that needs lockstep and an input each rank can read.
    if (r.sharded_stream) config_.fail("distributed.stream", "a continuous run replicates its stream (use replicated)");
    if (config_.data.continuous.records_per_step == 0) {
      config_.fail("data.continuous.records_per_step", "several processes train continuously only in lockstep: set it "
                                                       "so every replica admits the same records at the same steps");
    }
  }
  data::DataContext context;
  context.seed = seed_;
  context.slice_fields = slice_fields(config_.eval.slices);
  if (r.primary) context.rejects_path = run_dir_.file("rejects.jsonl");
  std::string state, prequential_state, promotion_state;
  if (!checkpoint.empty() && r.primary) carry_rejects(checkpoint, context.rejects_path);
  if (!checkpoint.empty()) {
    std::istringstream in(read_pipeline_state(checkpoint));
    const std::string where = checkpoint + "/data_state.bin";
    state = data::binary::read_string(in, where, uint64_t{1} << 40);
    prequential_state = data::binary::read_string(in, where, uint64_t{1} << 30);
    promotion_state = data::binary::read_string(in, where, 1 << 10);
  }
  stream_ = std::make_unique<data::ContinuousStream>(config_.data, context, state);
  if (r.world > 1 && !stream_->replayable()) {
    config_.fail("data.path", "several processes train continuously only from an input every rank can read (a file, "
                              "a folder or the synthetic stream), not " + stream_->describe());
  }
  log::info("continuous: " + stream_->describe() + (stream_->resumed() ? " from the checkpoint's position" : ""));
  metrics_ = r.primary ? std::make_unique<MetricsWriter>(run_dir_.file("metrics.jsonl")) : std::make_unique<MetricsWriter>();
  if (r.primary && config_.logging.tensorboard) metrics_->attach_tensorboard(run_dir_.file("tensorboard"));
  prequential_ = std::make_unique<PrequentialWindows>(config_.eval.window, stream_->spec().class_names);
  if (!prequential_state.empty()) prequential_->load(prequential_state, checkpoint + "/data_state.bin");
  promotion_ = std::make_unique<PromotionGate>(config_.continuous.promote, run_dir_.file("promoted"));
  if (!promotion_state.empty()) promotion_->load(promotion_state, checkpoint + "/data_state.bin");
  // What restore() compares with the checkpoint's hash: the state rebuilt from it, byte for byte.
  data_.pipeline_state = continuous_state();
  data_.unseen_description = "held out from the live stream by " + std::string(choice_name(config_.data.unseen.by)) +
                             " (the latest " + std::to_string(config_.data.continuous.held_out) + ")";
}

// Fills the reservoirs to data.continuous.min_ready before the first step.
bool TrainingRun::warm_up() {
  if (stream_->ready()) return true;
  log::info("continuous: waiting for " + std::to_string(config_.data.continuous.min_ready) + " records in the reservoirs");
  while (!stream_->ready()) {
    if (stop_requested()) return false;
    const data::Admission admission = stream_->take();
    for (const data::DriftEvent& e : stream_->admit(admission)) metrics_->write(drift_event_record(e, 0));
    if (admission.ended && !stream_->ready()) {
      throw UserError("data.continuous.min_ready: the stream ended after " + std::to_string(stream_->counters().read) +
                      " records, before the reservoirs held " + std::to_string(config_.data.continuous.min_ready));
    }
  }
  log::info("continuous: " + std::to_string(stream_->counters().accepted) + " records admitted; training starts");
  return true;
}

// One step's records: scored, then admitted. A drift alert keeps the model as it was when the
// shift arrived (checkpoints/before-drift/step-N) before any step trains on the new data.
bool TrainingRun::take_and_admit(int64_t step) {
  data::Admission admission = stream_->take();
  while (admission.waiting) {
    if (stop_wanted() || (ranks_.world == 1 && stop_requested())) return false;
    admission = stream_->take();
  }
  stream_ended_ = admission.ended;
  score_before_training(admission, step);
  const std::vector<data::DriftEvent> events = stream_->admit(admission);
  for (const data::DriftEvent& e : events) metrics_->write(drift_event_record(e, step));
  if (events.empty()) return true;
  // A shift that lasts (data.drift.on_drift: warn keeps the old reference) alerts window after
  // window: the model before it is kept once, at the first alert after a quiet window.
  const int64_t admitted = stream_->counters().accepted;
  const bool quiet_before = last_drift_alert_ < 0 || 2 * (admitted - last_drift_alert_) > 3 * config_.data.drift.window;
  last_drift_alert_ = admitted;
  if (quiet_before) {
    const std::string dir = save_checkpoint(run_dir_.file("checkpoints/before-drift"), options_.checkpoint.keep_last);
    if (ranks_.primary) log::info("drift: the model before the shift is kept in " + dir);
  }
  return true;
}

// Test-then-train: the model scores each record (unseen ones apart) before any step trains on it.
void TrainingRun::score_before_training(const data::Admission& admission, int64_t step) {
  std::vector<const data::Record*> scored;
  for (size_t i = 0; i < admission.records.size(); ++i) {
    if (admission.splits[i] != data::Split::unseen) scored.push_back(&admission.records[i]);
  }
  if (scored.empty()) return;
  const data::TensorDataset examples = stream_->collate(scored);
  const int64_t first_record = stream_->counters().accepted;
  model_->eval();
  {
    torch::NoGradGuard no_grad;
    for (int64_t begin = 0; begin < examples.size(); begin += config_.eval.batch_size) {
      const int64_t end = std::min(examples.size(), begin + config_.eval.batch_size);
      const data::Batch batch = examples.slice(begin, end).to(device_);
      const torch::Tensor logits = model_->forward(batch).to(torch::kFloat32);
      const torch::Tensor losses =
          torch::nn::functional::cross_entropy(logits, batch.targets, torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kNone))
              .to(torch::kCPU, torch::kFloat64);
      // One copy to the host per batch, then plain reads (this runs before every step).
      const torch::Tensor predicted = logits.argmax(1).to(torch::kCPU, torch::kInt64).contiguous();
      const torch::Tensor targets = batch.targets.to(torch::kCPU, torch::kInt64).contiguous();
      const torch::Tensor loss_values = losses.contiguous();
      const int64_t* p = predicted.data_ptr<int64_t>();
      const int64_t* t = targets.data_ptr<int64_t>();
      const double* l = loss_values.data_ptr<double>();
      for (int64_t i = 0; i < end - begin; ++i) {
        const auto closed = prequential_->add(t[i], p[i], l[i], step, first_record + begin + i + 1);
        if (closed) metrics_->write(*closed);
      }
    }
  }
  model_->train();
}

// Evaluation sees the splits as they are now: the reservoirs, and the latest held-out records.
void TrainingRun::refresh_held_out() {
  data_.seen = stream_->seen();
  data_.validation = stream_->validation();
  data_.unseen = stream_->unseen();
  data_.label_counts["seen"] = stream_->seen_label_counts();
  data_.sampler = stream_->splitter().reservoir().stats();
  data_.reservoir_history = stream_->splitter().history();
}

void TrainingRun::consider_promotion(int64_t step, const std::vector<SplitEvaluation>* evaluations) {
  if (!promotion_ || !promotion_->candidate_at(step, evaluations != nullptr)) return;
  std::vector<SplitEvaluation> fresh;
  if (!evaluations) {
    refresh_held_out();
    if (gradient_sync_) gradient_sync_->share_buffers();
    fresh = evaluate_all(*model_, data_, config_, device_, nullptr, ranks_.replicas, false);
    for (const auto& e : fresh) log_evaluation(e, step, *metrics_);
    evaluations = &fresh;
  }
  // The last promoted model, scored on the same held-out records as the candidate.
  std::vector<SplitEvaluation> promoted;
  if (!promoted_weights_.empty()) promoted = evaluate_promoted_weights();
  const PromotionGate::Decision decision = promotion_->judge(*evaluations, promoted_weights_.empty() ? nullptr : &promoted);
  metrics_->write(promotion_->event(decision, step));
  if (!decision.promote) {
    if (ranks_.primary) log::info("promotion refused at step " + std::to_string(step) + ": " + decision.reason);
    return;
  }
  const std::string dir = save_checkpoint(promotion_->folder(), options_.checkpoint.keep_last);
  promoted_weights_ = snapshot_weights(*model_);
  if (ranks_.primary) {
    promotion_->record_promotion(dir, decision);
    if (audit_) audit_->promotion(step, dir, decision.reason);
    log::info("promoted step " + std::to_string(step) + " (" + decision.reason + "): " + dir);
  }
}

// Evaluates the last promoted weights on the splits as they are now, then puts the model's own
// weights back.
std::vector<SplitEvaluation> TrainingRun::evaluate_promoted_weights() {
  const std::vector<torch::Tensor> own = snapshot_weights(*model_);
  restore_weights(*model_, promoted_weights_);
  const std::vector<SplitEvaluation> promoted = evaluate_all(*model_, data_, config_, device_, nullptr, ranks_.replicas, false);
  restore_weights(*model_, own);
  return promoted;
}

// data_state.bin of a continuous run: the stream's state, the prequential window's, the promotion bar.
std::string TrainingRun::continuous_state() const {
  std::ostringstream out;
  data::binary::write_string(out, stream_->save());
  data::binary::write_string(out, prequential_->save());
  data::binary::write_string(out, promotion_->save());
  return out.str();
}

// A replica trains on its share of the global batch every replica draws alike.
data::Batch TrainingRun::next_batch() {
  if (!stream_) return sampler_->next();
  const data::TensorDataset drawn = stream_->draw(global_micro_batch_);
  const int64_t share = options_.batch_size;
  return drawn.slice(ranks_.replica * share, (ranks_.replica + 1) * share);
}

// Ingestion next to the training figures: what the reader sustains and whether training waited.
void TrainingRun::add_stream_counters(MetricRecord& record, double seconds) {
  const data::StreamCounters c = stream_->counters();
  record.add("stream/records_per_second", static_cast<double>(c.accepted - window_stream_accepted_) / std::max(1e-9, seconds))
      .add("stream/read", static_cast<double>(c.read))
      .add("stream/accepted", static_cast<double>(c.accepted))
      .add("stream/rejected", static_cast<double>(c.rejected))
      .add("stream/queued", static_cast<double>(c.queued))
      .add("stream/trainer_waits", static_cast<double>(c.trainer_waits))
      .add("stream/reader_waits", static_cast<double>(c.reader_waits));
  window_stream_accepted_ = c.accepted;
}

}  // namespace stratum::training
