#pragma once
// One training run, as a sequence of named stages (training_run.cpp builds and restores,
// training_loop.cpp steps, logs, evaluates and finishes). train() in engine/trainer.cpp is
// `TrainingRun(...).run(resume_from)`.

#include <torch/torch.h>

#include <cmath>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "data/loader.h"
#include "data/split_data.h"
#include "distributed/collectives.h"
#include "engine/config.h"
#include "engine/loss_scaler.h"
#include "engine/metrics_writer.h"
#include "engine/progress.h"
#include "engine/trainer.h"
#include "engine/training_checkpoint.h"
#include "models/model.h"
#include "models/model_facts.h"

namespace stratum {

class EnergyMeter;
class Registry;
class RunDir;
class TensorParallelism;
class PrequentialWindows;
class PromotionGate;
class WeightAverage;
namespace audit {
class RunAudit;
}
namespace data {
class Tokenizer;
class ContinuousStream;
struct Admission;
}

namespace training {

class EarlyStopping;

/// Where this process sits in a multi-process job (all ones and zeros in a one-process run).
struct RankLayout {
  Collectives* everyone = nullptr;     ///< every rank of the job
  Collectives* replicas = nullptr;     ///< this rank's data-parallel replicas
  TensorParallelism* tensor = nullptr; ///< the parts of this rank's split model
  int rank = 0, world = 1;             ///< in the whole job
  int replica = 0, replica_count = 1;  ///< among the data-parallel replicas
  int parts = 1;                       ///< tensor-parallel parts of one model
  bool primary = true;                 ///< rank 0: writes the run directory
  bool first_part = true;              ///< part 0 of its split model (or no split)
  bool sharded_stream = false;         ///< distributed.stream: sharded with several replicas

  static RankLayout of(const ParallelGroups* groups, const RunConfig& config);
};

/// One training run: built stage by stage, then stepped to the end (or to a stop request).
class TrainingRun {
 public:
  TrainingRun(const RunConfig& config, const Registry& registry, const RunDir& run_dir, const ParallelGroups* groups);
  ~TrainingRun();
  TrainingOutcome run(const std::string& resume_from);

 private:
  // Stages, in the order run() calls them (training_run.cpp).
  void seed_and_pick_device();
  void read_data();
  void build_model(const std::string& checkpoint);
  void plan_steps();
  void plan_common();
  void restore(const std::string& checkpoint);
  void connect_replicas();
  // The loop (training_loop.cpp).
  bool train_step(int64_t step, double lr);  ///< false: a stop request abandoned the step
  void micro_batch(const data::Batch& loaded);
  /// The gradient norm before clipping, on the device (undefined when not clipped).
  torch::Tensor apply_gradients(int64_t step);
  bool logs_at(int64_t step) const {
    return step == 1 || step % config_.logging.every == 0 || step == total_steps_;
  }
  void log_window(int64_t step, double lr, double grad_norm);
  void evaluate_during_training(int64_t step);
  // Text samples of a language model (training_samples.cpp).
  void check_sampling();
  void sample_during_training(int64_t step);
  // Continuous mode (continuous_loop.cpp): the stream is read while the model trains.
  TrainingOutcome run_continuous(const std::string& resume_from);
  void open_stream(const std::string& checkpoint);
  bool warm_up();
  bool take_and_admit(int64_t step);  ///< false: a stop request came while waiting for records
  void score_before_training(const data::Admission& admission, int64_t step);
  void refresh_held_out();
  void consider_promotion(int64_t step, const std::vector<SplitEvaluation>* evaluations);
  std::vector<SplitEvaluation> evaluate_promoted_weights();
  std::string continuous_state() const;
  data::Batch next_batch();
  void add_stream_counters(MetricRecord& record, double seconds);
  TrainingOutcome stop_after(int64_t completed);
  TrainingOutcome finish();
  // Checkpoints (training_run.cpp).
  std::string save_checkpoint(const std::string& root, int64_t keep_last);
  std::string checkpoint_now();
  /// `early_best`: early stopping's verdict on these evaluations was "improved".
  void consider_best(const std::vector<SplitEvaluation>& evaluations, bool early_best);
  // The weight average and early stopping (training_loop.cpp).
  WeightAverage* evaluated_average() const;  ///< the average when evaluations score it, else null
  bool judge_early_stopping(const std::vector<SplitEvaluation>& evaluations, int64_t step);  ///< true: improved
  std::vector<SplitEvaluation> final_evaluation(OpenSetScores& open_set, std::string& weights_json);
  // Energy and the audit ledger (training_run.cpp).
  void open_energy_and_audit();
  /// eval.json's "energy" block: what the counters measured, or null with the reason.
  std::string energy_json(const std::vector<SplitEvaluation>* final_evaluations) const;

  const RunConfig& config_;
  const TrainerOptions& options_;
  const Registry& registry_;
  const RunDir& run_dir_;
  const uint64_t seed_;
  const RankLayout ranks_;
  torch::Device device_{torch::kCPU};

  data::SplitData data_;
  std::vector<std::string> replica_states_;  ///< sharded stream: every replica's pipeline state
  std::unique_ptr<MetricsWriter> metrics_;

  models::ModelPtr model_;
  models::ModelFacts facts_;
  bool language_model_ = false;
  int64_t pad_token_ = -1;
  std::unique_ptr<torch::optim::Optimizer> optimizer_;
  torch::Tensor class_weights_, host_class_weights_;
  std::unique_ptr<LossScaler> scaler_;
  std::unique_ptr<GradientSynchronizer> gradient_sync_;

  int64_t global_micro_batch_ = 0, total_steps_ = 0;
  TrainingState state_;
  std::string resolved_config_;
  double best_value_ = 0;

  std::unique_ptr<data::Loader> sampler_;
  std::shared_ptr<const data::Tokenizer> sample_tokenizer_;  ///< with logging.sample_every
  std::unique_ptr<Progress> progress_;
  double start_ = 0;
  TrainingOutcome outcome_;
  // The loss is summed on the device and read back only when a line is logged.
  torch::Tensor window_loss_, step_loss_;
  int64_t window_steps_ = 0, window_samples_ = 0;  ///< window_steps_: steps whose loss counts (not skipped)
  double window_start_ = 0;
  bool first_window_ = true;
  bool stop_agreed_ = false;  ///< multi-process: some rank was asked to stop
  std::unique_ptr<EnergyMeter> energy_;             ///< the primary's energy counters
  double trained_units_ = 0;                        ///< samples (language models: tokens) trained by this process's run
  std::unique_ptr<audit::RunAudit> audit_;          ///< the primary's ledger events (audit.enabled)
  std::unique_ptr<WeightAverage> average_;          ///< trainer.ema
  std::unique_ptr<EarlyStopping> early_stopping_;   ///< trainer.early_stopping
  std::vector<torch::Tensor> best_weights_;         ///< the best evaluated weights (restore_best)
  bool stopped_early_ = false;                      ///< early stopping, or a range test's divergence
  double range_lowest_loss_ = std::nan("");         ///< trainer.schedule: range_test
  // Continuous mode.
  std::unique_ptr<data::ContinuousStream> stream_;
  std::unique_ptr<PrequentialWindows> prequential_;
  std::unique_ptr<PromotionGate> promotion_;
  std::vector<torch::Tensor> promoted_weights_;  ///< the last promoted model's parameters, then buffers
  bool stream_ended_ = false;
  int64_t last_drift_alert_ = -1;  ///< records admitted when the last drift alert came (-1: none yet)
  int64_t window_stream_accepted_ = 0;  ///< records admitted when the last train line was logged
  bool stop_wanted();
};

}  // namespace training
}  // namespace stratum
