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

#include "core/config_rule.h"

namespace stratum {

/// Run identity: where the run directory goes and the one seed every RNG stream derives from.
struct RunSection {
  std::string name = "stratum";
  std::string output_dir = "runs";
  int64_t seed = 1234;

  template <class V>
  static void describe(V& v) {
    v.field("name", &RunSection::name, "run name; the run directory is <output_dir>/<name>-<timestamp>");
    v.field("output_dir", &RunSection::output_dir, "folder that holds run directories");
    v.field("seed", &RunSection::seed, "seed of every random stream in the run", at_least(0));
  }
};

/// Stratified per-label reservoirs: quotas, caps, recency decay and multi-label handling.
struct ReservoirSection {
  int64_t min_per_label = 200;
  int64_t max_per_label = 2000;
  double label_share_cap = 0.1;
  int64_t max_items = 20000;
  int64_t max_bytes = int64_t{256} << 20;
  double decay = 0.0;
  std::string multi_label = "primary";
  int64_t max_labels_per_record = 4;
  int64_t rebalance_every = 4096;
  std::string dedup = "none";
  double dedup_quantum = 0.05;

  template <class V>
  static void describe(V& v) {
    v.field("min_per_label", &ReservoirSection::min_per_label,
            "items a label keeps even when scarce (if it has that many)", in_range(0, 1e10));
    v.field("max_per_label", &ReservoirSection::max_per_label, "hard cap on one label's items", in_range(1, 1e10));
    v.field("label_share_cap", &ReservoirSection::label_share_cap,
            "no label holds more than this share of max_items", in_range(0.0, 1.0));
    v.field("max_items", &ReservoirSection::max_items, "global cap on items in all reservoirs", in_range(1, 1e10));
    v.field("max_bytes", &ReservoirSection::max_bytes, "global cap on the bytes those items occupy", at_least(1));
    v.field("decay", &ReservoirSection::decay,
            "recency weight exp(decay * t) per time unit (0: uniform sampling)", at_least(0.0));
    v.field("multi_label", &ReservoirSection::multi_label,
            "records with several labels enter the first label's reservoir, or each (weight shared)",
            one_of({"primary", "split"}));
    v.field("max_labels_per_record", &ReservoirSection::max_labels_per_record,
            "with split: at most this many reservoirs per record", in_range(1, 1024));
    v.field("rebalance_every", &ReservoirSection::rebalance_every,
            "records between quota reallocations", at_least(1));
    v.field("dedup", &ReservoirSection::dedup, "keep near-duplicates out of a reservoir by bucket",
            one_of({"none", "payload", "features"}));
    v.field("dedup_quantum", &ReservoirSection::dedup_quantum,
            "with dedup: features: bucket width for quantizing features", positive());
  }
};

/// Drift monitoring of the training stream: windows compared with a reference window.
struct DriftSection {
  int64_t window = 1000;
  double tv_threshold = 0.1;
  double psi_threshold = 0.25;
  double ks_threshold = 0.2;
  double wasserstein_threshold = 0.0;
  std::string on_drift = "warn";

  template <class V>
  static void describe(V& v) {
    v.field("window", &DriftSection::window, "records per window; the first window is the reference (0: off)",
            in_range(0, 1e10));
    v.field("tv_threshold", &DriftSection::tv_threshold, "alert when the label mix's total variation reaches this",
            in_range(0.0, 1.0));
    v.field("psi_threshold", &DriftSection::psi_threshold, "alert when the label mix's PSI reaches this", at_least(0.0));
    v.field("ks_threshold", &DriftSection::ks_threshold, "alert when a feature's KS statistic reaches this",
            in_range(0.0, 1.0));
    v.field("wasserstein_threshold", &DriftSection::wasserstein_threshold,
            "alert when a feature's Wasserstein-1 distance reaches this (0: no alert)", at_least(0.0));
    v.field("on_drift", &DriftSection::on_drift,
            "warn: log and record the event; rebalance: also re-plan quotas and make the current window the reference",
            one_of({"warn", "rebalance"}));
  }
};

/// How the unseen split is held out from the training stream.
struct UnseenSection {
  std::string by = "file";
  std::vector<std::string> labels;
  std::vector<std::string> sources;
  double after = 0;

  template <class V>
  static void describe(V& v) {
    v.field("by", &UnseenSection::by,
            "file: the source's held-out file (IDX t10k; a fresh stream for synthetic); label: whole classes "
            "never trained on; time: records after a cut-off; source: whole input files (fortunes); none",
            one_of({"file", "label", "time", "source", "none"}));
    v.field("labels", &UnseenSection::labels, "with by: label: class names (or ids) held out");
    v.field("sources", &UnseenSection::sources, "with by: source: input file names held out");
    v.field("after", &UnseenSection::after, "with by: time: records with a timestamp after this are unseen");
  }
};

/// The synthetic drifting stream (source: synthetic): Gaussian classes in feature space.
struct SyntheticSection {
  int64_t records = 20000;
  int64_t classes = 5;
  int64_t features = 8;
  double imbalance = 0.5;
  double separation = 3.0;
  std::vector<int64_t> label_shift_at;
  std::vector<int64_t> covariate_shift_at;
  double covariate_shift = 1.0;
  double corrupt_fraction = 0.0;

  template <class V>
  static void describe(V& v) {
    v.field("records", &SyntheticSection::records, "records in the training stream", in_range(1, 1e12));
    v.field("classes", &SyntheticSection::classes, "number of classes", in_range(2, 65536));
    v.field("features", &SyntheticSection::features, "numeric features per record", in_range(1, 65536));
    v.field("imbalance", &SyntheticSection::imbalance, "class c has prior proportional to imbalance^c",
            in_range(0.01, 1.0));
    v.field("separation", &SyntheticSection::separation, "distance between class means", at_least(0.0));
    v.field("label_shift_at", &SyntheticSection::label_shift_at,
            "record indices where the class prior rotates by one class", at_least(0));
    v.field("covariate_shift_at", &SyntheticSection::covariate_shift_at,
            "record indices where every feature moves by covariate_shift", at_least(0));
    v.field("covariate_shift", &SyntheticSection::covariate_shift, "size of each covariate shift");
    v.field("corrupt_fraction", &SyntheticSection::corrupt_fraction,
            "share of records injected corrupt (non-finite feature or unknown label)", in_range(0.0, 1.0));
  }
};

/// How text sources (source: text, fortunes) turn lines into records.
struct TextSection {
  std::string format = "lines";
  std::string separator = "\t";
  std::vector<std::string> label_fields = {"label"};
  std::string text_field = "text";
  std::string time_field;
  std::vector<std::string> feature_fields;
  int64_t max_length = 256;

  template <class V>
  static void describe(V& v) {
    v.field("format", &TextSection::format, "lines: LABEL<separator>TEXT per line; jsonl: one JSON object per line",
            one_of({"lines", "jsonl"}));
    v.field("separator", &TextSection::separator, "with lines: what separates the label from the text");
    v.field("label_fields", &TextSection::label_fields,
            "with jsonl: fields holding the label(s); a field may hold a string or a list of strings");
    v.field("text_field", &TextSection::text_field, "with jsonl: the field holding the text");
    v.field("time_field", &TextSection::time_field, "with jsonl: numeric timestamp field (empty: arrival order)");
    v.field("feature_fields", &TextSection::feature_fields, "with jsonl: numeric fields kept as features");
    v.field("max_length", &TextSection::max_length, "bytes of text kept per record (byte-level tokens)",
            in_range(1, 1 << 20));
  }
};

/// Byte-level BPE tokenization of text sources.
struct TokenizerSection {
  std::string path;
  int64_t vocab_size = 4096;
  int64_t min_frequency = 2;

  template <class V>
  static void describe(V& v) {
    v.field("path", &TokenizerSection::path,
            "tokenizer JSON written by `stratum data tokenizer` (empty: one token per byte)");
    v.field("vocab_size", &TokenizerSection::vocab_size,
            "with `stratum data tokenizer`: ids to learn (256 bytes + merges + padding)", in_range(257, 1 << 20));
    v.field("min_frequency", &TokenizerSection::min_frequency,
            "with `stratum data tokenizer`: stop when no pair occurs this often", at_least(1));
  }
};

/// Labels from labeling functions' votes (source: weak_labels).
struct WeakLabelSection {
  std::string votes;
  std::string item_field = "id";
  std::string method = "weighted";
  double min_confidence = 0.0;

  template <class V>
  static void describe(V& v) {
    v.field("votes", &WeakLabelSection::votes,
            "CSV of votes: the item column and one column per labeling function (empty / abstain: no vote)");
    v.field("item_field", &WeakLabelSection::item_field,
            "the item id: a field of each JSONL item in data.path and the votes file's item column");
    v.field("method", &WeakLabelSection::method, "how votes combine", one_of({"majority", "weighted"}));
    v.field("min_confidence", &WeakLabelSection::min_confidence,
            "items whose combined label is less certain are skipped (counted in rejects.jsonl)", in_range(0.0, 1.0));
  }
};

/// Where training data comes from and how it is split.
struct DataSection {
  std::string source;
  std::string path;
  double validation_fraction = 0.1;
  int64_t max_records = 0;
  double max_reject_fraction = 0.01;
  int64_t prefetch = 4;
  int64_t max_classes = 4096;
  std::vector<std::string> labels;
  ReservoirSection reservoir;
  DriftSection drift;
  UnseenSection unseen;
  SyntheticSection synthetic;
  TextSection text;
  TokenizerSection tokenizer;
  WeakLabelSection weak_labels;

  template <class V>
  static void describe(V& v) {
    v.field("source", &DataSection::source, "registered data source (see `stratum info`)", required());
    v.field("path", &DataSection::path, "file or folder the source reads (- for standard input)");
    v.field("validation_fraction", &DataSection::validation_fraction,
            "share of the training stream held out for validation", in_range(0.0, 0.5));
    v.field("max_records", &DataSection::max_records, "read at most this many training records (0: all)", at_least(0));
    v.field("max_reject_fraction", &DataSection::max_reject_fraction,
            "share of rejected records after which the run stops", in_range(0.0, 1.0));
    v.field("labels", &DataSection::labels,
            "the allowed labels, in class-id order; records with any other label are rejected (empty: any)");
    v.field("prefetch", &DataSection::prefetch, "batches gathered ahead on a background thread (0: none)",
            in_range(0, 1024));
    v.field("max_classes", &DataSection::max_classes,
            "most distinct labels a stream may hold (evaluation keeps a classes x classes confusion matrix); "
            "records with more are rejected", in_range(2, 65536));
    v.section("reservoir", &DataSection::reservoir, "stratified per-label reservoirs");
    v.section("drift", &DataSection::drift, "drift monitoring of the training stream");
    v.section("unseen", &DataSection::unseen, "how the unseen split is held out");
    v.section("synthetic", &DataSection::synthetic, "the synthetic drifting stream (source: synthetic)");
    v.section("text", &DataSection::text, "text sources (source: text or fortunes)");
    v.section("tokenizer", &DataSection::tokenizer, "how text becomes tokens");
    v.section("weak_labels", &DataSection::weak_labels, "labels combined from labeling functions (source: weak_labels)");
  }
};

/// Which registered model to build and its shape.
struct ModelSection {
  std::string name;
  int64_t hidden = 128;
  std::vector<int64_t> channels = {32, 64};
  double dropout = 0.1;
  int64_t num_classes = 0;
  std::string init_from;
  // Transformer shape; 0 or "" keeps the named model's preset (see models/transformer_shape.h).
  int64_t layers = 0;
  int64_t width = 0;
  int64_t heads = 0;
  int64_t mlp_hidden = 0;
  int64_t context = 0;
  int64_t vocab_size = 0;
  int64_t patch_size = 0;
  int64_t image_size = 0;
  std::string positions;
  std::string pool;

  template <class V>
  static void describe(V& v) {
    v.field("name", &ModelSection::name, "registered model (see `stratum info`)", required());
    v.field("hidden", &ModelSection::hidden, "width of the hidden layer(s)", in_range(1, 1 << 22));
    v.field("channels", &ModelSection::channels, "convolution channels per stage", in_range(1, 1 << 16));
    v.field("dropout", &ModelSection::dropout, "dropout probability", in_range(0.0, 0.99));
    v.field("num_classes", &ModelSection::num_classes, "output classes (0: from the data)", in_range(0, 65536));
    v.field("init_from", &ModelSection::init_from,
            "safetensors file in the reference layout (Hugging Face GPT-2 / timm ViT names) to start from");
    v.field("layers", &ModelSection::layers, "transformer blocks (0: the named size's)", in_range(0, 4096));
    v.field("width", &ModelSection::width, "transformer embedding width (0: the named size's)", in_range(0, 1 << 20));
    v.field("heads", &ModelSection::heads, "attention heads; must divide width (0: the named size's)",
            in_range(0, 1 << 16));
    v.field("mlp_hidden", &ModelSection::mlp_hidden, "hidden width of each block's MLP (0: the named size's)",
            in_range(0, 1 << 22));
    v.field("context", &ModelSection::context, "longest token sequence (0: the named size's, else the data's)",
            in_range(0, 1 << 20));
    v.field("vocab_size", &ModelSection::vocab_size, "token vocabulary (0: the named size's, else the data's)",
            in_range(0, 1 << 24));
    v.field("patch_size", &ModelSection::patch_size, "ViT patch side in pixels (0: the named size's)",
            in_range(0, 1 << 12));
    v.field("image_size", &ModelSection::image_size, "ViT input side in pixels (0: the named size's, else the data's)",
            in_range(0, 1 << 16));
    v.field("positions", &ModelSection::positions, "position encoding: learned or rotary (empty: the named size's)",
            one_of({"", "learned", "rotary"}));
    v.field("pool", &ModelSection::pool,
            "ViT head input: token (the class token) or mean (patch tokens averaged, timm's global_pool avg; "
            "empty: the named size's)",
            one_of({"", "token", "mean"}));
  }
};

/// Low-rank adapters on linear layers chosen by module-name pattern.
struct LoraSection {
  bool enabled = false;
  int64_t rank = 8;
  double alpha = 16.0;
  double dropout = 0.05;
  std::vector<std::string> targets = {"attn.qkv", "attn.proj"};

  template <class V>
  static void describe(V& v) {
    v.field("enabled", &LoraSection::enabled, "wrap the target layers with LoRA");
    v.field("rank", &LoraSection::rank, "rank r of the update B*A", in_range(1, 1 << 16));
    v.field("alpha", &LoraSection::alpha, "scale alpha; the update is multiplied by alpha/r", positive());
    v.field("dropout", &LoraSection::dropout, "dropout on the LoRA path", in_range(0.0, 0.99));
    v.field("targets", &LoraSection::targets, "module-name patterns of the layers to wrap");
  }
};

/// Learned per-layer key/value prefixes.
struct PrefixSection {
  bool enabled = false;
  int64_t length = 16;
  bool reparameterize = true;
  int64_t hidden = 512;

  template <class V>
  static void describe(V& v) {
    v.field("enabled", &PrefixSection::enabled, "add learned key/value prefixes to every attention layer");
    v.field("length", &PrefixSection::length, "prefix length in positions", in_range(1, 1 << 16));
    v.field("reparameterize", &PrefixSection::reparameterize,
            "train the prefixes through an MLP (Li & Liang 2021), folded into plain prefixes when saved");
    v.field("hidden", &PrefixSection::hidden, "width of the reparameterization MLP", in_range(1, 1 << 20));
  }
};

/// Parameter-efficient adapters applied after the model is built.
struct AdaptersSection {
  LoraSection lora;
  PrefixSection prefix;

  template <class V>
  static void describe(V& v) {
    v.section("lora", &AdaptersSection::lora, "LoRA adapters");
    v.section("prefix", &AdaptersSection::prefix, "prefix-tuning");
  }
};

/// Quantization of the frozen base weights.
struct QuantizationSection {
  std::string mode = "none";
  bool double_quant = true;
  int64_t block_size = 0;
  std::vector<std::string> targets = {"attn.*", "mlp.*"};

  template <class V>
  static void describe(V& v) {
    v.field("mode", &QuantizationSection::mode,
            "weight format of the frozen target layers: int8 (per-row absmax), nf4 or int4 (blockwise 4-bit)",
            one_of({"none", "int8", "nf4", "int4"}));
    v.field("double_quant", &QuantizationSection::double_quant,
            "nf4/int4: quantize the block absmax values too, 8-bit in blocks of 256 (QLoRA)");
    v.field("block_size", &QuantizationSection::block_size,
            "nf4/int4: values per absmax block (0: 64 for nf4, 128 for int4)", in_range(0, 1 << 20));
    v.field("targets", &QuantizationSection::targets, "module-name patterns of the linear layers to quantize");
  }
};

/// When checkpoints are written and which are kept.
struct CheckpointSection {
  int64_t every = 0;
  int64_t keep_last = 2;
  std::string best_metric;

  template <class V>
  static void describe(V& v) {
    v.field("every", &CheckpointSection::every, "write a checkpoint every N steps (0: only at the end)", at_least(0));
    v.field("keep_last", &CheckpointSection::keep_last, "complete checkpoints kept on disk", in_range(2, 1 << 20));
    v.field("best_metric", &CheckpointSection::best_metric, "eval metric that selects the `best` copy (empty: none)");
  }
};

/// The optimisation loop.
struct TrainerSection {
  std::string device = "cpu";
  std::string optimizer = "adamw";
  double lr = 1e-3;
  double weight_decay = 0.01;
  std::vector<std::string> no_decay = {"bias", "norm", "embed"};
  double momentum = 0.9;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  std::string schedule = "cosine";
  int64_t warmup_steps = 0;
  double min_lr_ratio = 0.1;
  int64_t steps = 0;
  int64_t epochs = 1;
  int64_t batch_size = 64;
  int64_t grad_accum = 1;
  double clip_grad_norm = 1.0;
  double label_smoothing = 0.0;
  std::string class_weights = "none";
  std::string precision = "fp32";
  bool gradient_checkpointing = false;
  int64_t gradient_checkpointing_every = 1;
  int64_t threads = 0;
  CheckpointSection checkpoint;

  template <class V>
  static void describe(V& v) {
    v.field("device", &TrainerSection::device, "where the model runs", one_of({"cpu", "cuda", "auto"}));
    v.field("optimizer", &TrainerSection::optimizer, "update rule", one_of({"adamw", "sgd"}));
    v.field("lr", &TrainerSection::lr, "peak learning rate", positive());
    v.field("weight_decay", &TrainerSection::weight_decay, "decoupled weight decay", at_least(0.0));
    v.field("no_decay", &TrainerSection::no_decay,
            "parameters whose name contains one of these (and all 1-D parameters) get no weight decay");
    v.field("momentum", &TrainerSection::momentum, "SGD momentum", in_range(0.0, 1.0));
    v.field("beta1", &TrainerSection::beta1, "AdamW first-moment decay", in_range(0.0, 0.9999));
    v.field("beta2", &TrainerSection::beta2, "AdamW second-moment decay", in_range(0.0, 0.99999));
    v.field("eps", &TrainerSection::eps, "AdamW denominator epsilon", positive());
    v.field("schedule", &TrainerSection::schedule, "learning-rate shape after warm-up",
            one_of({"constant", "cosine", "linear"}));
    v.field("warmup_steps", &TrainerSection::warmup_steps, "linear warm-up steps", at_least(0));
    v.field("min_lr_ratio", &TrainerSection::min_lr_ratio, "final learning rate as a share of lr", in_range(0.0, 1.0));
    v.field("steps", &TrainerSection::steps, "optimizer steps to run (0: use epochs)", in_range(0, 1e12));
    v.field("epochs", &TrainerSection::epochs, "passes over the training split when steps is 0", in_range(0, 1e6));
    v.field("batch_size", &TrainerSection::batch_size, "examples per micro-batch", in_range(1, 1 << 24));
    v.field("grad_accum", &TrainerSection::grad_accum, "micro-batches per optimizer step", in_range(1, 1 << 16));
    v.field("clip_grad_norm", &TrainerSection::clip_grad_norm, "clip the global gradient norm (0: off)", at_least(0.0));
    v.field("label_smoothing", &TrainerSection::label_smoothing, "classification label smoothing", in_range(0.0, 0.99));
    v.field("class_weights", &TrainerSection::class_weights,
            "balanced: weight each class's loss by n / (classes * n_c) from the seen split's counts",
            one_of({"none", "balanced"}));
    v.field("precision", &TrainerSection::precision, "compute precision", one_of({"fp32", "bf16", "fp16"}));
    v.field("gradient_checkpointing", &TrainerSection::gradient_checkpointing, "recompute activations in backward");
    v.field("gradient_checkpointing_every", &TrainerSection::gradient_checkpointing_every,
            "with gradient_checkpointing: recompute every N-th transformer block (1: all)", at_least(1));
    v.field("threads", &TrainerSection::threads, "intra-op CPU threads (0: LibTorch's default)", in_range(0, 1024));
    v.section("checkpoint", &TrainerSection::checkpoint, "checkpoint policy");
  }
};

/// When and how the model is evaluated on every split.
struct EvalSection {
  int64_t every = 0;
  int64_t batch_size = 256;
  int64_t max_samples = 10000;
  double reject_threshold = 0.5;

  template <class V>
  static void describe(V& v) {
    v.field("every", &EvalSection::every, "evaluate every N steps (0: only at the end)", at_least(0));
    v.field("batch_size", &EvalSection::batch_size, "examples per evaluation batch", in_range(1, 1 << 24));
    v.field("max_samples", &EvalSection::max_samples, "examples evaluated per split (0: all)", at_least(0));
    v.field("reject_threshold", &EvalSection::reject_threshold,
            "with unseen.by: label: inputs whose max-softmax confidence is below this count as rejected",
            in_range(0.0, 1.0));
  }
};

/// Multi-process settings (data and tensor parallel).
struct DistributedSection {
  std::string backend = "auto";
  int64_t tensor_parallel = 1;
  std::string stream = "replicated";
  double bucket_mb = 25.0;
  double init_timeout_s = 300.0;
  double collective_timeout_s = 600.0;

  template <class V>
  static void describe(V& v) {
    v.field("backend", &DistributedSection::backend, "c10d backend", one_of({"auto", "nccl", "gloo"}));
    v.field("tensor_parallel", &DistributedSection::tensor_parallel, "tensor-parallel degree", in_range(1, 1 << 16));
    v.field("stream", &DistributedSection::stream,
            "replicated: every replica reads the whole stream and takes its share of each global batch (exact, "
            "resumable on other replica counts); sharded: replica r reads records r, r+R, ... into its own "
            "reservoirs and splits (each record is read once)",
            one_of({"replicated", "sharded"}));
    v.field("bucket_mb", &DistributedSection::bucket_mb, "gradient all-reduce bucket size in MB",
            in_range(0.001, 65536));
    v.field("init_timeout_s", &DistributedSection::init_timeout_s,
            "seconds every rank waits for all the others to join the job", in_range(0.1, 604800));
    v.field("collective_timeout_s", &DistributedSection::collective_timeout_s,
            "a collective that takes longer ends the job", in_range(0.1, 604800));
  }
};

/// What the run prints and records.
struct LoggingSection {
  std::string level = "info";
  int64_t every = 50;
  bool tensorboard = false;

  template <class V>
  static void describe(V& v) {
    v.field("level", &LoggingSection::level, "console log level", one_of({"debug", "info", "warn", "error"}));
    v.field("every", &LoggingSection::every, "steps between progress lines and metrics records", at_least(1));
    v.field("tensorboard", &LoggingSection::tensorboard, "also write TensorBoard event files");
  }
};

/// Labeling-quality tools (`stratum qa ...`): columns of annotation files, agreement
/// thresholds, spot-check sampling.
struct QaSection {
  std::string item_column = "item";
  std::string annotator_column = "annotator";
  std::string label_column = "label";
  double threshold = 0.6;
  double high_stakes_threshold = 0.8;
  std::vector<std::string> high_stakes_labels;
  double spotcheck_fraction = 0.05;
  int64_t time_buckets = 4;
  std::vector<std::string> reviewers = {"reviewer_1", "reviewer_2"};

  template <class V>
  static void describe(V& v) {
    v.field("item_column", &QaSection::item_column, "annotation files: the column (or JSON field) naming the item");
    v.field("annotator_column", &QaSection::annotator_column, "annotation files: the annotator's column");
    v.field("label_column", &QaSection::label_column, "annotation and labeled files: the label's column");
    v.field("threshold", &QaSection::threshold, "agreement (kappa) below which a routine label is flagged",
            in_range(-1.0, 1.0));
    v.field("high_stakes_threshold", &QaSection::high_stakes_threshold,
            "agreement below which a high-stakes label is flagged", in_range(-1.0, 1.0));
    v.field("high_stakes_labels", &QaSection::high_stakes_labels, "labels held to high_stakes_threshold");
    v.field("spotcheck_fraction", &QaSection::spotcheck_fraction,
            "share of each label x time-bucket stratum sampled for review", in_range(0.0, 1.0));
    v.field("time_buckets", &QaSection::time_buckets, "equal-width time buckets a spot check stratifies by",
            in_range(1, 1 << 16));
    v.field("reviewers", &QaSection::reviewers, "the two independent reviewers each spot-checked item goes to");
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
  RunSection run;
  DataSection data;
  ModelSection model;
  AdaptersSection adapters;
  QuantizationSection quantization;
  TrainerSection trainer;
  EvalSection eval;
  DistributedSection distributed;
  LoggingSection logging;
  QaSection qa;
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
