#pragma once
// The typed, validated run configuration. YAML is parsed in exactly one place (config.cpp);
// everything else receives these structs. Each field is declared once, in its section's
// `describe`, with its key, help text and rule; parsing, `--set`, `--help`, the resolved dump
// and equality are all generated from that one list.

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/log.h"
#include "core/options.h"
#include "adapters/adapter_options.h"
#include "data/data_options.h"
#include "data/quality/qa_options.h"
#include "distributed/distributed_options.h"
#include "models/model_options.h"

namespace stratum {

/// Where the model runs (automatic: CUDA when available).
enum class DeviceChoice { cpu, cuda, automatic };
inline const ChoiceTable<DeviceChoice>& choices(DeviceChoice) {
  static const ChoiceTable<DeviceChoice> table{{DeviceChoice::cpu, "cpu"}, {DeviceChoice::cuda, "cuda"}, {DeviceChoice::automatic, "auto"}};
  return table;
}

/// The update rule.
enum class OptimizerKind { adamw, sgd };
inline const ChoiceTable<OptimizerKind>& choices(OptimizerKind) {
  static const ChoiceTable<OptimizerKind> table{{OptimizerKind::adamw, "adamw"}, {OptimizerKind::sgd, "sgd"}};
  return table;
}

/// Learning-rate shape after warm-up.
/// range_test: rises exponentially from lr * min_lr_ratio to lr, and the run ends when the loss
/// diverges (`stratum lr-find`).
enum class Schedule { constant, cosine, linear, range_test };
inline const ChoiceTable<Schedule>& choices(Schedule) {
  static const ChoiceTable<Schedule> table{{Schedule::constant, "constant"},
                                           {Schedule::cosine, "cosine"},
                                           {Schedule::linear, "linear"},
                                           {Schedule::range_test, "range_test"}};
  return table;
}

/// Whether AdamW steps with LibTorch's fused kernel (auto: on CUDA when LibTorch has it).
enum class FusedAdamWChoice { automatic, on, off };
inline const ChoiceTable<FusedAdamWChoice>& choices(FusedAdamWChoice) {
  static const ChoiceTable<FusedAdamWChoice> table{
      {FusedAdamWChoice::automatic, "auto"}, {FusedAdamWChoice::on, "on"}, {FusedAdamWChoice::off, "off"}};
  return table;
}

/// Per-class loss weights.
enum class ClassWeights { none, balanced };
inline const ChoiceTable<ClassWeights>& choices(ClassWeights) {
  static const ChoiceTable<ClassWeights> table{{ClassWeights::none, "none"}, {ClassWeights::balanced, "balanced"}};
  return table;
}

/// Compute precision.
enum class Precision { fp32, bf16, fp16 };
inline const ChoiceTable<Precision>& choices(Precision) {
  static const ChoiceTable<Precision> table{{Precision::fp32, "fp32"}, {Precision::bf16, "bf16"}, {Precision::fp16, "fp16"}};
  return table;
}

/// Whether a run trains epochs over a stream read to its end, or keeps training while it flows.
enum class TrainingMode { offline, continuous };
inline const ChoiceTable<TrainingMode>& choices(TrainingMode) {
  static const ChoiceTable<TrainingMode> table{{TrainingMode::offline, "offline"}, {TrainingMode::continuous, "continuous"}};
  return table;
}

/// Run identity: where the run directory goes and the one seed every RNG stream derives from.
struct RunOptions {
  std::string name = "stratum";
  std::string output_dir = "runs";
  int64_t seed = 1234;

  template <class V>
  static void describe(V& v) {
    v.field("name", &RunOptions::name, "run name; the run directory is <output_dir>/<name>-<timestamp>");
    v.field("output_dir", &RunOptions::output_dir, "folder that holds run directories");
    v.field("seed", &RunOptions::seed, "seed of every random stream in the run", at_least(0));
  }
};

/// When checkpoints are written and which are kept.
struct CheckpointOptions {
  int64_t every = 0;
  int64_t keep_last = 2;
  std::string best_metric;

  template <class V>
  static void describe(V& v) {
    v.field("every", &CheckpointOptions::every, "write a checkpoint every N steps (0: only at the end)", at_least(0));
    v.field("keep_last", &CheckpointOptions::keep_last, "complete checkpoints kept on disk", in_range(2, 1 << 20));
    v.field("best_metric", &CheckpointOptions::best_metric, "eval metric that selects the `best` copy (empty: none)");
  }
};

/// Mixup and CutMix for classifiers (trainer.mixup): each training batch blended with itself
/// reversed, by a share drawn from Beta(alpha, alpha), with soft targets to match.
struct MixupOptions {
  double mixup_alpha = 0;           ///< Beta parameter of Mixup's share (0: no Mixup)
  double cutmix_alpha = 0;          ///< Beta parameter of CutMix's share (0: no CutMix; images only)
  double probability = 1.0;         ///< share of batches mixed at all
  double switch_probability = 0.5;  ///< with both on: share of mixed batches that take CutMix

  bool enabled() const { return mixup_alpha > 0 || cutmix_alpha > 0; }

  template <class V>
  static void describe(V& v) {
    v.field("mixup_alpha", &MixupOptions::mixup_alpha,
            "Mixup: blend each batch with itself reversed by lambda ~ Beta(alpha, alpha) (0: off; timm uses 0.8)",
            in_range(0.0, 100.0));
    v.field("cutmix_alpha", &MixupOptions::cutmix_alpha,
            "CutMix: paste a box of the reversed batch, area 1 - lambda, lambda ~ Beta(alpha, alpha) (0: off; images "
            "only; timm uses 1.0)",
            in_range(0.0, 100.0));
    v.field("probability", &MixupOptions::probability, "share of training batches mixed", in_range(0.0, 1.0));
    v.field("switch_probability", &MixupOptions::switch_probability,
            "with both alphas set: share of mixed batches that use CutMix instead of Mixup", in_range(0.0, 1.0));
  }
};

/// Whether a metric improves downwards (loss) or upwards (accuracy); auto: from its name.
enum class MetricMode { automatic, min, max };
inline const ChoiceTable<MetricMode>& choices(MetricMode) {
  static const ChoiceTable<MetricMode> table{{MetricMode::automatic, "auto"}, {MetricMode::min, "min"}, {MetricMode::max, "max"}};
  return table;
}

/// Ending a run whose evaluation metric stopped improving (trainer.early_stopping).
struct EarlyStoppingOptions {
  std::string metric;
  MetricMode mode = MetricMode::automatic;
  int64_t patience = 5;
  double min_delta = 0.0;
  bool restore_best = true;

  template <class V>
  static void describe(V& v) {
    v.field("metric", &EarlyStoppingOptions::metric,
            "SPLIT.METRIC checked at each eval.every, e.g. validation.loss (empty: no early stopping)");
    v.field("mode", &EarlyStoppingOptions::mode, "min or max: which way is better (auto: min for loss, ece, perplexity)");
    v.field("patience", &EarlyStoppingOptions::patience, "evaluations without improvement before the run stops",
            in_range(1, 1 << 20));
    v.field("min_delta", &EarlyStoppingOptions::min_delta, "an improvement must exceed this", at_least(0.0));
    v.field("restore_best", &EarlyStoppingOptions::restore_best,
            "when the run stops early, the final evaluation (and eval.json) scores the best evaluated weights, not "
            "the last");
  }
};

/// An exponential moving average of the weights kept beside them (trainer.ema).
struct EmaOptions {
  double decay = 0.0;
  int64_t start_step = 0;

  bool enabled() const { return decay > 0; }

  template <class V>
  static void describe(V& v) {
    v.field("decay", &EmaOptions::decay, "average <- decay * average + (1 - decay) * weights after each step (0: off)",
            in_range(0.0, 0.999999));
    v.field("start_step", &EmaOptions::start_step, "until this step the average is a copy of the weights",
            at_least(0));
  }
};

/// The optimisation loop.
struct TrainerOptions {
  TrainingMode mode = TrainingMode::offline;
  DeviceChoice device = DeviceChoice::cpu;
  OptimizerKind optimizer = OptimizerKind::adamw;
  double lr = 1e-3;
  double weight_decay = 0.01;
  std::vector<std::string> no_decay = {"bias", "norm", "embed"};
  double momentum = 0.9;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  FusedAdamWChoice fused_adamw = FusedAdamWChoice::automatic;
  bool tf32 = true;
  bool pin_memory = true;
  bool assert_no_sync = false;
  Schedule schedule = Schedule::cosine;
  int64_t warmup_steps = 0;
  double min_lr_ratio = 0.1;
  int64_t steps = 0;
  int64_t epochs = 1;
  int64_t batch_size = 64;
  int64_t grad_accum = 1;
  double clip_grad_norm = 1.0;
  double label_smoothing = 0.0;
  ClassWeights class_weights = ClassWeights::none;
  Precision precision = Precision::fp32;
  bool gradient_checkpointing = false;
  int64_t gradient_checkpointing_every = 1;
  int64_t threads = 0;
  MixupOptions mixup;
  CheckpointOptions checkpoint;
  EarlyStoppingOptions early_stopping;
  EmaOptions ema;

  template <class V>
  static void describe(V& v) {
    v.field("mode", &TrainerOptions::mode,
            "offline: read the data, then train epochs over it; continuous: train while the stream flows "
            "(see data.continuous)");
    v.field("device", &TrainerOptions::device, "where the model runs");
    v.field("optimizer", &TrainerOptions::optimizer, "update rule");
    v.field("lr", &TrainerOptions::lr, "peak learning rate", positive());
    v.field("weight_decay", &TrainerOptions::weight_decay, "decoupled weight decay", at_least(0.0));
    v.field("no_decay", &TrainerOptions::no_decay,
            "parameters whose name contains one of these (and all 1-D parameters) get no weight decay");
    v.field("momentum", &TrainerOptions::momentum, "SGD momentum", in_range(0.0, 1.0));
    v.field("beta1", &TrainerOptions::beta1, "AdamW first-moment decay", in_range(0.0, 0.9999));
    v.field("beta2", &TrainerOptions::beta2, "AdamW second-moment decay", in_range(0.0, 0.99999));
    v.field("eps", &TrainerOptions::eps, "AdamW denominator epsilon", positive());
    v.field("fused_adamw", &TrainerOptions::fused_adamw,
            "AdamW in one fused kernel per parameter group: auto (on CUDA where LibTorch has it), on, off");
    v.field("tf32", &TrainerOptions::tf32, "on CUDA: float32 matrix products and convolutions may use TF32 tensor cores");
    v.field("pin_memory", &TrainerOptions::pin_memory,
            "on CUDA: batches are gathered into page-locked host memory, so their copy to the GPU is asynchronous");
    v.field("assert_no_sync", &TrainerOptions::assert_no_sync,
            "on CUDA: a training step that waits for the GPU from the host (outside logging steps) is an error "
            "(checks the step stays asynchronous)");
    v.field("schedule", &TrainerOptions::schedule, "learning-rate shape after warm-up");
    v.field("warmup_steps", &TrainerOptions::warmup_steps, "linear warm-up steps", at_least(0));
    v.field("min_lr_ratio", &TrainerOptions::min_lr_ratio, "final learning rate as a share of lr", in_range(0.0, 1.0));
    v.field("steps", &TrainerOptions::steps, "optimizer steps to run (0: use epochs)", in_range(0, 1e12));
    v.field("epochs", &TrainerOptions::epochs, "passes over the training split when steps is 0", in_range(0, 1e6));
    v.field("batch_size", &TrainerOptions::batch_size, "examples per micro-batch", in_range(1, 1 << 24));
    v.field("grad_accum", &TrainerOptions::grad_accum, "micro-batches per optimizer step", in_range(1, 1 << 16));
    v.field("clip_grad_norm", &TrainerOptions::clip_grad_norm, "clip the global gradient norm (0: off)", at_least(0.0));
    v.field("label_smoothing", &TrainerOptions::label_smoothing, "classification label smoothing", in_range(0.0, 0.99));
    v.field("class_weights", &TrainerOptions::class_weights,
            "balanced: weight each class's loss by n / (classes * n_c) from the seen split's counts");
    v.field("precision", &TrainerOptions::precision, "compute precision");
    v.field("gradient_checkpointing", &TrainerOptions::gradient_checkpointing, "recompute activations in backward");
    v.field("gradient_checkpointing_every", &TrainerOptions::gradient_checkpointing_every,
            "with gradient_checkpointing: recompute every N-th transformer block (1: all)", at_least(1));
    v.field("threads", &TrainerOptions::threads, "intra-op CPU threads (0: LibTorch's default)", in_range(0, 1024));
    v.section("mixup", &TrainerOptions::mixup, "Mixup / CutMix of training batches (classifiers)");
    v.section("checkpoint", &TrainerOptions::checkpoint, "checkpoint policy");
    v.section("early_stopping", &TrainerOptions::early_stopping, "stop when an evaluation metric stops improving");
    v.section("ema", &TrainerOptions::ema, "exponential moving average of the weights");
  }
};

/// One way of cutting every evaluated split into groups (eval.slices): by one dimension or the
/// crossing of two. Dimensions: source, label, time, feature:N (a numeric input feature), or
/// any other name: a JSON field of the records (a dotted path into nested objects).
struct SliceOptions {
  std::string name;             ///< how reports call it (default: the dimensions joined by " x ")
  std::vector<std::string> by;  ///< one or two dimensions
  std::string every;            ///< time: bucket width ("1d", "6h", "30m", "45s", "2w", or a number)
  int64_t buckets = 0;          ///< numbers (time too): this many equal-count buckets
  std::vector<double> bins;     ///< numbers: bucket edges, ascending; a value outside them is an error

  template <class V>
  static void describe(V& v) {
    v.field("name", &SliceOptions::name, "name shown in eval.json and the report (default: the dimensions)");
    v.field("by", &SliceOptions::by,
            "one or two dimensions: source, label, time, feature:N, or a JSON field of the records (dotted path "
            "into nested objects); two cross each other",
            required());
    v.field("every", &SliceOptions::every,
            "time: bucket width on timestamps in seconds (45s, 30m, 6h, 1d, 2w: buckets named by their UTC start) "
            "or a plain number of time units");
    v.field("buckets", &SliceOptions::buckets, "numeric dimensions without bins or every: N equal-count buckets",
            in_range(0, 1000));
    v.field("bins", &SliceOptions::bins,
            "numeric fields and features: ascending bucket edges [e0, e1, ...]; buckets are [e_i, e_i+1), the last "
            "closed; a value outside [e0, last] is an error");
  }
};

/// When a gap between slices is reported as an alert (eval.slice_alerts).
struct SliceAlertOptions {
  std::string metric;        ///< accuracy, macro_f1, loss, ece or perplexity (empty: no alerts)
  double max_gap = 0;        ///< alert when the best minus the worst ranked slice exceeds this (0: off)
  double min_ratio = 0;      ///< alert when worst / best falls below this (0: off)
  std::vector<std::string> splits = {"validation", "unseen"};

  template <class V>
  static void describe(V& v) {
    v.field("metric", &SliceAlertOptions::metric,
            "the metric compared across slices: accuracy, macro_f1, loss, ece or perplexity (empty: no alerts)");
    v.field("max_gap", &SliceAlertOptions::max_gap, "alert when the best minus the worst ranked slice exceeds this (0: off)",
            at_least(0));
    v.field("min_ratio", &SliceAlertOptions::min_ratio,
            "alert when the smaller / larger value of the metric falls below this (0: off)", in_range(0.0, 1.0));
    v.field("splits", &SliceAlertOptions::splits, "the splits whose slices are checked");
  }
};

/// When and how the model is evaluated on every split, and by which slices.
struct EvalOptions {
  int64_t every = 0;
  int64_t batch_size = 256;
  int64_t max_samples = 10000;
  double reject_threshold = 0.5;
  std::vector<SliceOptions> slices;
  int64_t min_slice_size = 30;
  int64_t max_slices = 100;
  int64_t slice_bootstrap = 1000;
  SliceAlertOptions slice_alerts;
  int64_t window = 1000;
  bool use_ema = true;

  SliceOptions slice_defaults() const { return {}; }

  template <class V>
  static void describe(V& v) {
    v.field("every", &EvalOptions::every, "evaluate every N steps (0: only at the end)", at_least(0));
    v.field("batch_size", &EvalOptions::batch_size, "examples per evaluation batch", in_range(1, 1 << 24));
    v.field("max_samples", &EvalOptions::max_samples, "examples evaluated per split (0: all)", at_least(0));
    v.field("reject_threshold", &EvalOptions::reject_threshold,
            "with unseen.by: label: inputs whose max-softmax confidence is below this count as rejected",
            in_range(0.0, 1.0));
    v.list("slices", &EvalOptions::slices, &EvalOptions::slice_defaults,
           "metrics by group on every split at every evaluation (see SliceOptions: by, every, buckets, bins)");
    v.field("min_slice_size", &EvalOptions::min_slice_size,
            "slices with fewer examples are reported but not ranked or compared", at_least(1));
    v.field("max_slices", &EvalOptions::max_slices,
            "most groups one slice definition may make (a field with more values needs bins)", in_range(1, 100000));
    v.field("slice_bootstrap", &EvalOptions::slice_bootstrap,
            "resamples for the slices' 95% confidence intervals (seeded; 0: no intervals)", in_range(0, 100000));
    v.section("slice_alerts", &EvalOptions::slice_alerts, "when a gap between slices raises an alert");
    v.field("window", &EvalOptions::window,
            "continuous runs: records per test-then-train window (each scored before it is trained on)",
            in_range(1, 1e9));
    v.field("use_ema", &EvalOptions::use_ema,
            "with trainer.ema: evaluate the averaged weights (the raw ones are scored beside them at the end)");
  }
};

/// When a continuous run's checkpoint is promoted for serving (continuous.promote).
struct PromotionOptions {
  std::string metric;
  double min_delta = 0.0;
  int64_t every = 0;
  double unseen_tolerance = 0.02;

  template <class V>
  static void describe(V& v) {
    v.field("metric", &PromotionOptions::metric,
            "split.metric a candidate must beat the last promoted checkpoint on, e.g. validation.macro_f1 (empty: "
            "no promotion)");
    v.field("min_delta", &PromotionOptions::min_delta, "by at least this much", at_least(0.0));
    v.field("every", &PromotionOptions::every, "steps between candidates (0: at each evaluation)", at_least(0));
    v.field("unseen_tolerance", &PromotionOptions::unseen_tolerance,
            "refuse a candidate whose unseen split (same metric) is worse than the last promoted one's by more",
            at_least(0.0));
  }
};

/// What only continuous runs do.
struct ContinuousTrainingOptions {
  PromotionOptions promote;

  template <class V>
  static void describe(V& v) {
    v.section("promote", &ContinuousTrainingOptions::promote,
              "promoted/step-N copies of checkpoints that beat the last promoted one (promoted/LATEST names it)");
  }
};

/// What the run prints and records.
struct LoggingOptions {
  log::Level level = log::Level::info;
  int64_t every = 50;
  bool tensorboard = false;
  int64_t sample_every = 0;
  std::vector<std::string> sample_prompts = {"The "};
  int64_t sample_tokens = 64;

  template <class V>
  static void describe(V& v) {
    v.field("level", &LoggingOptions::level, "console log level");
    v.field("every", &LoggingOptions::every, "steps between progress lines and metrics records", at_least(1));
    v.field("tensorboard", &LoggingOptions::tensorboard, "also write TensorBoard event files");
    v.field("sample_every", &LoggingOptions::sample_every,
            "language models: steps between greedy continuations of sample_prompts in the log, metrics.jsonl and "
            "the report (0: none)",
            at_least(0));
    v.field("sample_prompts", &LoggingOptions::sample_prompts, "with sample_every: the prompts to continue");
    v.field("sample_tokens", &LoggingOptions::sample_tokens, "with sample_every: new tokens per prompt",
            in_range(1, 4096));
  }
};

/// The audit ledger every run, export, promotion and accepted label change is recorded in.
struct AuditOptions {
  bool enabled = true;
  std::string path;
  std::string key_env = "STRATUM_AUDIT_KEY";
  bool require_hmac = false;
  bool new_chain = false;

  template <class V>
  static void describe(V& v) {
    v.field("enabled", &AuditOptions::enabled, "record this run in the audit ledger");
    v.field("path", &AuditOptions::path,
            "the ledger file, shared across runs (empty: <run.output_dir>/audit.jsonl)");
    v.field("key_env", &AuditOptions::key_env,
            "environment variable holding the HMAC key that seals each entry (unset: entries are chained, not sealed)");
    v.field("require_hmac", &AuditOptions::require_hmac, "refuse to run when the key is not set");
    v.field("new_chain", &AuditOptions::new_chain,
            "set a ledger whose chain is broken aside and start a new one (what stratum train --new-audit-chain sets)");
  }
};

/// Where each key of a loaded config came from, so any later check can name file, line and column.
struct ConfigSources {
  std::string top_file;                       ///< the file passed to `load_config`
  std::map<std::string, std::string> where;   ///< dotted key -> "file:line:col" or "--set k=v"

  /// "file:line:col" of `key`, or of its nearest enclosing section, or the top file.
  std::string locate(const std::string& key) const;
};

/// One run's complete configuration, frozen after loading.
struct RunConfig {
  RunOptions run;
  data::DataOptions data;
  models::ModelOptions model;
  adapters::AdaptersOptions adapters;
  adapters::QuantizationOptions quantization;
  TrainerOptions trainer;
  EvalOptions eval;
  distributed::DistributedOptions distributed;
  LoggingOptions logging;
  ContinuousTrainingOptions continuous;
  data::QaOptions qa;
  AuditOptions audit;
  std::vector<std::string> plugins;

  /// Provenance of the keys; not part of the configuration itself.
  std::shared_ptr<const ConfigSources> sources;

  /// Throws UserError "<file:line:col>: <key>: <message>" for a check made after loading.
  [[noreturn]] void fail(const std::string& key, const std::string& message) const;

  template <class V>
  static void describe(V& v) {
    v.section("run", &RunConfig::run, "run identity");
    v.section("data", &RunConfig::data, "data source and splits");
    v.section("model", &RunConfig::model, "model architecture");
    v.section("adapters", &RunConfig::adapters, "parameter-efficient adapters");
    v.section("quantization", &RunConfig::quantization, "frozen-weight quantization");
    v.section("trainer", &RunConfig::trainer, "optimisation loop");
    v.section("eval", &RunConfig::eval, "evaluation");
    v.section("distributed", &RunConfig::distributed, "multi-process training");
    v.section("logging", &RunConfig::logging, "console and metrics output");
    v.section("continuous", &RunConfig::continuous, "continuous runs: the promotion gate");
    v.section("qa", &RunConfig::qa, "labeling-quality tools (stratum qa)");
    v.section("audit", &RunConfig::audit, "the tamper-evident audit ledger shared across runs");
    v.field("plugins", &RunConfig::plugins, "shared libraries to load before building the model");
  }
};

/// Loads `path` (following `extends:`), applies `--set key=value` overrides in order, and
/// validates everything. Throws UserError naming the file, line and key on any problem.
RunConfig load_config(const std::string& path, const std::vector<std::string>& overrides = {});

/// The resolved configuration as YAML; `load_config` of this text gives an equal RunConfig.
std::string dump_config(const RunConfig& config);

/// Field-by-field equality of the configuration (provenance ignored).
bool operator==(const RunConfig& a, const RunConfig& b);
inline bool operator!=(const RunConfig& a, const RunConfig& b) { return !(a == b); }

/// One key of a configuration: its dotted name, its type ("bool", "int", "number", "string",
/// "choice", "list of ...") and its value as one line of flow YAML.
struct ConfigEntry {
  std::string key, type, value;
};

/// Every key of `config` in declaration order (a list of sections, e.g. eval.slices, is one entry).
std::vector<ConfigEntry> flatten_config(const RunConfig& config);

/// Every key with its type, default, rule and help, one per line (for `stratum train --help`).
std::string config_reference();

}  // namespace stratum
