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
enum class Schedule { constant, cosine, linear };
inline const ChoiceTable<Schedule>& choices(Schedule) {
  static const ChoiceTable<Schedule> table{{Schedule::constant, "constant"}, {Schedule::cosine, "cosine"}, {Schedule::linear, "linear"}};
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

/// The optimisation loop.
struct TrainerOptions {
  DeviceChoice device = DeviceChoice::cpu;
  OptimizerKind optimizer = OptimizerKind::adamw;
  double lr = 1e-3;
  double weight_decay = 0.01;
  std::vector<std::string> no_decay = {"bias", "norm", "embed"};
  double momentum = 0.9;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
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
  CheckpointOptions checkpoint;

  template <class V>
  static void describe(V& v) {
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
    v.section("checkpoint", &TrainerOptions::checkpoint, "checkpoint policy");
  }
};

/// When and how the model is evaluated on every split.
struct EvalOptions {
  int64_t every = 0;
  int64_t batch_size = 256;
  int64_t max_samples = 10000;
  double reject_threshold = 0.5;

  template <class V>
  static void describe(V& v) {
    v.field("every", &EvalOptions::every, "evaluate every N steps (0: only at the end)", at_least(0));
    v.field("batch_size", &EvalOptions::batch_size, "examples per evaluation batch", in_range(1, 1 << 24));
    v.field("max_samples", &EvalOptions::max_samples, "examples evaluated per split (0: all)", at_least(0));
    v.field("reject_threshold", &EvalOptions::reject_threshold,
            "with unseen.by: label: inputs whose max-softmax confidence is below this count as rejected",
            in_range(0.0, 1.0));
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

/// Labeling-quality tools (`stratum qa ...`): columns of annotation files, agreement

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
  data::QaOptions qa;
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
    v.section("qa", &RunConfig::qa, "labeling-quality tools (stratum qa)");
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

/// Every key with its type, default, rule and help, one per line (for `stratum train --help`).
std::string config_reference();

}  // namespace stratum
