#pragma once
// What a data pipeline is configured with: the source, its splits, reservoirs, drift monitoring,
// text parsing and tokenization. Declared with the field visitor of core/options.h; the engine
// reads YAML into these (engine/config.h) and data/ never sees YAML.
#include <cstdint>
#include <string>
#include <vector>

#include "core/options.h"
#include "data/redaction/redaction_options.h"

namespace stratum::data {

/// How a record with several labels enters the reservoirs.
enum class MultiLabel { primary, split };
inline const ChoiceTable<MultiLabel>& choices(MultiLabel) {
  static const ChoiceTable<MultiLabel> table{{MultiLabel::primary, "primary"}, {MultiLabel::split, "split"}};
  return table;
}

/// What near-duplicate buckets key on.
enum class Dedup { none, payload, features };
inline const ChoiceTable<Dedup>& choices(Dedup) {
  static const ChoiceTable<Dedup> table{{Dedup::none, "none"}, {Dedup::payload, "payload"}, {Dedup::features, "features"}};
  return table;
}

/// What a drift alert does beyond being recorded.
enum class OnDrift { warn, rebalance };
inline const ChoiceTable<OnDrift>& choices(OnDrift) {
  static const ChoiceTable<OnDrift> table{{OnDrift::warn, "warn"}, {OnDrift::rebalance, "rebalance"}};
  return table;
}

/// What a continuous run does when a finite live stream ends.
enum class AtEnd { stop, wait };
inline const ChoiceTable<AtEnd>& choices(AtEnd) {
  static const ChoiceTable<AtEnd> table{{AtEnd::stop, "stop"}, {AtEnd::wait, "wait"}};
  return table;
}

/// How the unseen split is held out.
enum class UnseenBy { file, label, time, source, none };
inline const ChoiceTable<UnseenBy>& choices(UnseenBy) {
  static const ChoiceTable<UnseenBy> table{{UnseenBy::file, "file"}, {UnseenBy::label, "label"}, {UnseenBy::time, "time"}, {UnseenBy::source, "source"}, {UnseenBy::none, "none"}};
  return table;
}

/// How a text line becomes a record.
enum class TextFormat { lines, jsonl, plain };
inline const ChoiceTable<TextFormat>& choices(TextFormat) {
  static const ChoiceTable<TextFormat> table{{TextFormat::lines, "lines"}, {TextFormat::jsonl, "jsonl"}, {TextFormat::plain, "plain"}};
  return table;
}

/// How token-shard windows treat document boundaries.
enum class Pack { contiguous, documents };
inline const ChoiceTable<Pack>& choices(Pack) {
  static const ChoiceTable<Pack> table{{Pack::contiguous, "contiguous"}, {Pack::documents, "documents"}};
  return table;
}

/// How labeling functions' votes combine.
enum class VoteMethod { majority, weighted };
inline const ChoiceTable<VoteMethod>& choices(VoteMethod) {
  static const ChoiceTable<VoteMethod> table{{VoteMethod::majority, "majority"}, {VoteMethod::weighted, "weighted"}};
  return table;
}

/// A random transformation of training images, applied in the order listed.
enum class ImageAugmentation { random_resized_crop, horizontal_flip, color_jitter, rand_augment };
inline const ChoiceTable<ImageAugmentation>& choices(ImageAugmentation) {
  static const ChoiceTable<ImageAugmentation> table{{ImageAugmentation::random_resized_crop, "random_resized_crop"},
                                                    {ImageAugmentation::horizontal_flip, "horizontal_flip"},
                                                    {ImageAugmentation::color_jitter, "color_jitter"},
                                                    {ImageAugmentation::rand_augment, "rand_augment"}};
  return table;
}

/// Image sources (image_folder, image_list, webdataset): decoding limits, the example size, what is kept in
/// the reservoirs, augmentation of the training split and normalization.
struct ImageOptions {
  int64_t size = 224;
  int64_t channels = 3;
  int64_t resize = 0;
  int64_t max_pixels = int64_t{40} << 20;
  int64_t max_file_bytes = int64_t{64} << 20;
  std::vector<ImageAugmentation> augment;
  std::vector<double> crop_scale = {0.08, 1.0};
  std::vector<double> crop_ratio = {0.75, 4.0 / 3.0};
  double flip_probability = 0.5;
  double brightness = 0.4;
  double contrast = 0.4;
  double saturation = 0.4;
  int64_t rand_augment_ops = 2;
  int64_t rand_augment_magnitude = 9;
  int64_t rand_augment_bins = 31;
  std::vector<double> mean;
  std::vector<double> std;
  std::string path_field = "path";
  std::string label_field = "label";

  template <class V>
  static void describe(V& v) {
    v.field("size", &ImageOptions::size, "examples are size x size pixels", in_range(1, 8192));
    v.field("channels", &ImageOptions::channels, "1: gray (luma), 3: RGB", in_range(1, 3));
    v.field("resize", &ImageOptions::resize,
            "the shorter side each image is resized to when read and kept (evaluation center-crops size from it; "
            "e.g. 256 for size 224); 0: size", in_range(0, 8192));
    v.field("max_pixels", &ImageOptions::max_pixels,
            "images declaring more pixels (height x width) are rejected before decoding", in_range(1, 1e12));
    v.field("max_file_bytes", &ImageOptions::max_file_bytes, "larger image files are rejected unread", in_range(1, 1e12));
    v.field("augment", &ImageOptions::augment,
            "random transformations of training images, in order (evaluation: resize + center crop only)");
    v.field("crop_scale", &ImageOptions::crop_scale, "random_resized_crop: [min, max] share of the image's area",
            in_range(0.0, 1.0));
    v.field("crop_ratio", &ImageOptions::crop_ratio, "random_resized_crop: [min, max] aspect ratio (width / height)",
            positive());
    v.field("flip_probability", &ImageOptions::flip_probability, "horizontal_flip: chance of mirroring",
            in_range(0.0, 1.0));
    v.field("brightness", &ImageOptions::brightness, "color_jitter: brightness factor drawn from [1 - b, 1 + b]",
            in_range(0.0, 1.0));
    v.field("contrast", &ImageOptions::contrast, "color_jitter: contrast factor drawn from [1 - c, 1 + c]",
            in_range(0.0, 1.0));
    v.field("saturation", &ImageOptions::saturation, "color_jitter: saturation factor drawn from [1 - s, 1 + s]",
            in_range(0.0, 1.0));
    v.field("rand_augment_ops", &ImageOptions::rand_augment_ops,
            "rand_augment: operations applied to each training image, each drawn from the 14 (torchvision's N)",
            in_range(1, 16));
    v.field("rand_augment_magnitude", &ImageOptions::rand_augment_magnitude,
            "rand_augment: the strength, a bin of rand_augment_bins (torchvision's M; 9 of 31 by default)",
            in_range(0, 1000));
    v.field("rand_augment_bins", &ImageOptions::rand_augment_bins,
            "rand_augment: bins the magnitude range of every operation is cut into", in_range(2, 1000));
    v.field("mean", &ImageOptions::mean,
            "per-channel mean of [0, 1] pixels to subtract (ImageNet: [0.485, 0.456, 0.406]); empty: the seen split's");
    v.field("std", &ImageOptions::std,
            "per-channel deviation to divide by (ImageNet: [0.229, 0.224, 0.225]); empty: the seen split's", positive());
    v.field("path_field", &ImageOptions::path_field,
            "source: image_list: the column holding each image's path (relative to the list file)");
    v.field("label_field", &ImageOptions::label_field,
            "source: image_list: the column holding the label (JSONL: a string or a list of strings)");
  }
};

/// Stratified per-label reservoirs: quotas, caps, recency decay and multi-label handling.
struct ReservoirOptions {
  int64_t min_per_label = 200;
  int64_t max_per_label = 2000;
  double label_share_cap = 0.1;
  int64_t max_items = 20000;
  int64_t max_bytes = int64_t{256} << 20;
  double decay = 0.0;
  MultiLabel multi_label = MultiLabel::primary;
  int64_t max_labels_per_record = 4;
  int64_t rebalance_every = 4096;
  Dedup dedup = Dedup::none;
  double dedup_quantum = 0.05;

  template <class V>
  static void describe(V& v) {
    v.field("min_per_label", &ReservoirOptions::min_per_label,
            "items a label keeps even when scarce (if it has that many)", in_range(0, 1e10));
    v.field("max_per_label", &ReservoirOptions::max_per_label, "hard cap on one label's items", in_range(1, 1e10));
    v.field("label_share_cap", &ReservoirOptions::label_share_cap,
            "no label holds more than this share of max_items", in_range(0.0, 1.0));
    v.field("max_items", &ReservoirOptions::max_items, "global cap on items in all reservoirs", in_range(1, 1e10));
    v.field("max_bytes", &ReservoirOptions::max_bytes, "global cap on the bytes those items occupy", at_least(1));
    v.field("decay", &ReservoirOptions::decay,
            "recency weight exp(decay * t) per time unit (0: uniform sampling)", at_least(0.0));
    v.field("multi_label", &ReservoirOptions::multi_label,
            "records with several labels enter the first label's reservoir, or each (weight shared)");
    v.field("max_labels_per_record", &ReservoirOptions::max_labels_per_record,
            "with split: at most this many reservoirs per record", in_range(1, 1024));
    v.field("rebalance_every", &ReservoirOptions::rebalance_every,
            "records between quota reallocations", at_least(1));
    v.field("dedup", &ReservoirOptions::dedup, "keep near-duplicates out of a reservoir by bucket");
    v.field("dedup_quantum", &ReservoirOptions::dedup_quantum,
            "with dedup: features: bucket width for quantizing features", positive());
  }
};

/// Drift monitoring of the training stream: windows compared with a reference window.
struct DriftOptions {
  int64_t window = 1000;
  double tv_threshold = 0.1;
  double psi_threshold = 0.25;
  double ks_threshold = 0.2;
  double wasserstein_threshold = 0.0;
  OnDrift on_drift = OnDrift::warn;

  template <class V>
  static void describe(V& v) {
    v.field("window", &DriftOptions::window, "records per window; the first window is the reference (0: off)",
            in_range(0, 1e10));
    v.field("tv_threshold", &DriftOptions::tv_threshold, "alert when the label mix's total variation reaches this",
            in_range(0.0, 1.0));
    v.field("psi_threshold", &DriftOptions::psi_threshold, "alert when the label mix's PSI reaches this", at_least(0.0));
    v.field("ks_threshold", &DriftOptions::ks_threshold, "alert when a feature's KS statistic reaches this",
            in_range(0.0, 1.0));
    v.field("wasserstein_threshold", &DriftOptions::wasserstein_threshold,
            "alert when a feature's Wasserstein-1 distance reaches this (0: no alert)", at_least(0.0));
    v.field("on_drift", &DriftOptions::on_drift,
            "warn: log and record the event; rebalance: also re-plan quotas and make the current window the reference");
  }
};

/// How the unseen split is held out from the training stream.
struct UnseenOptions {
  UnseenBy by = UnseenBy::file;
  std::vector<std::string> labels;
  std::vector<std::string> sources;
  double after = 0;

  template <class V>
  static void describe(V& v) {
    v.field("by", &UnseenOptions::by,
            "file: the source's held-out file (IDX t10k; a fresh stream for synthetic); label: whole classes "
            "never trained on; time: records after a cut-off; source: whole input files (fortunes); none");
    v.field("labels", &UnseenOptions::labels, "with by: label: class names (or ids) held out");
    v.field("sources", &UnseenOptions::sources, "with by: source: input file names held out");
    v.field("after", &UnseenOptions::after, "with by: time: records with a timestamp after this are unseen");
  }
};

/// The synthetic drifting stream (source: synthetic): Gaussian classes in feature space.
struct SyntheticOptions {
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
    v.field("records", &SyntheticOptions::records, "records in the training stream", in_range(1, 1e12));
    v.field("classes", &SyntheticOptions::classes, "number of classes", in_range(2, 65536));
    v.field("features", &SyntheticOptions::features, "numeric features per record", in_range(1, 65536));
    v.field("imbalance", &SyntheticOptions::imbalance, "class c has prior proportional to imbalance^c",
            in_range(0.01, 1.0));
    v.field("separation", &SyntheticOptions::separation, "distance between class means", at_least(0.0));
    v.field("label_shift_at", &SyntheticOptions::label_shift_at,
            "record indices where the class prior rotates by one class", at_least(0));
    v.field("covariate_shift_at", &SyntheticOptions::covariate_shift_at,
            "record indices where every feature moves by covariate_shift", at_least(0));
    v.field("covariate_shift", &SyntheticOptions::covariate_shift, "size of each covariate shift");
    v.field("corrupt_fraction", &SyntheticOptions::corrupt_fraction,
            "share of records injected corrupt (non-finite feature or unknown label)", in_range(0.0, 1.0));
  }
};

/// How text sources (source: text, fortunes) turn lines into records.
struct TextOptions {
  TextFormat format = TextFormat::lines;
  std::string separator = "\t";
  std::vector<std::string> label_fields = {"label"};
  std::string text_field = "text";
  std::string time_field;
  std::vector<std::string> feature_fields;
  int64_t max_length = 256;

  template <class V>
  static void describe(V& v) {
    v.field("format", &TextOptions::format,
            "lines: LABEL<separator>TEXT per line; jsonl: one JSON object per line; plain: each line one unlabeled "
            "document (stratum data prepare only)");
    v.field("separator", &TextOptions::separator, "with lines: what separates the label from the text");
    v.field("label_fields", &TextOptions::label_fields,
            "with jsonl: fields holding the label(s); a field may hold a string or a list of strings (empty: "
            "unlabeled documents, stratum data prepare only)");
    v.field("text_field", &TextOptions::text_field, "with jsonl: the field holding the text");
    v.field("time_field", &TextOptions::time_field, "with jsonl: numeric timestamp field (empty: arrival order)");
    v.field("feature_fields", &TextOptions::feature_fields, "with jsonl: numeric fields kept as features");
    v.field("max_length", &TextOptions::max_length,
            "tokens per example: text records are cut or padded to it; token_shards windows hold this many",
            in_range(1, 1 << 20));
  }
};

/// Byte-level BPE tokenization of text sources.
struct TokenizerOptions {
  std::string path;
  int64_t vocab_size = 4096;
  int64_t min_frequency = 2;

  template <class V>
  static void describe(V& v) {
    v.field("path", &TokenizerOptions::path,
            "tokenizer JSON written by `stratum data tokenizer`, or a folder with GPT-2's vocab.json and "
            "merges.txt (a Hugging Face GPT-2 model folder); empty: one token per byte");
    v.field("vocab_size", &TokenizerOptions::vocab_size,
            "with `stratum data tokenizer`: ids to learn (256 bytes + merges + padding)", in_range(257, 1 << 20));
    v.field("min_frequency", &TokenizerOptions::min_frequency,
            "with `stratum data tokenizer`: stop when no pair occurs this often", at_least(1));
  }
};

/// Labels from labeling functions' votes (source: weak_labels).
struct WeakLabelOptions {
  std::string votes;
  std::string item_field = "id";
  VoteMethod method = VoteMethod::weighted;
  double min_confidence = 0.0;

  template <class V>
  static void describe(V& v) {
    v.field("votes", &WeakLabelOptions::votes,
            "CSV of votes: the item column and one column per labeling function (empty / abstain: no vote)");
    v.field("item_field", &WeakLabelOptions::item_field,
            "the item id: a field of each JSONL item in data.path and the votes file's item column");
    v.field("method", &WeakLabelOptions::method, "how votes combine");
    v.field("min_confidence", &WeakLabelOptions::min_confidence,
            "items whose combined label is less certain are skipped (counted in rejects.jsonl)", in_range(0.0, 1.0));
  }
};

/// How a continuous run (trainer.mode: continuous) reads its live stream and draws batches from it.
struct ContinuousOptions {
  int64_t min_ready = 256;
  double fresh_share = 0.25;
  int64_t fresh_window = 1024;
  int64_t records_per_step = 0;
  int64_t max_admit = 4096;
  int64_t queue = 65536;
  int64_t held_out = 2048;
  bool follow = false;
  std::string listen;
  int64_t max_line_bytes = int64_t{1} << 20;
  AtEnd at_end = AtEnd::stop;
  double poll_seconds = 0.2;

  template <class V>
  static void describe(V& v) {
    v.field("min_ready", &ContinuousOptions::min_ready,
            "records the reservoirs hold before the first step (standardization is learned from them)",
            in_range(1, 1e9));
    v.field("fresh_share", &ContinuousOptions::fresh_share,
            "share of each batch drawn from the freshest admitted records; the rest is a uniform draw from the "
            "reservoirs", in_range(0.0, 1.0));
    v.field("fresh_window", &ContinuousOptions::fresh_window, "how many of the latest seen records count as fresh",
            in_range(1, 1e8));
    v.field("records_per_step", &ContinuousOptions::records_per_step,
            "lockstep: admit exactly this many records before each step, waiting for them (reproducible; 0: admit "
            "what has arrived, never wait once min_ready is reached)", in_range(0, 1e8));
    v.field("max_admit", &ContinuousOptions::max_admit, "without lockstep: most records admitted before one step",
            in_range(1, 1e8));
    v.field("queue", &ContinuousOptions::queue,
            "records read ahead of training (at least records_per_step); a full queue pauses the reader (backpressure)", in_range(1, 1e8));
    v.field("held_out", &ContinuousOptions::held_out,
            "validation and unseen keep the latest this many held-out records each", in_range(1, 1e8));
    v.field("follow", &ContinuousOptions::follow,
            "keep reading data.path as it grows, across rotation by rename and truncation (tail -F)");
    v.field("listen", &ContinuousOptions::listen,
            "HOST:PORT (or PORT: 127.0.0.1) to accept line-delimited records over TCP instead of data.path");
    v.field("max_line_bytes", &ContinuousOptions::max_line_bytes, "longer stream lines are rejected",
            in_range(16, 1 << 24));
    v.field("at_end", &ContinuousOptions::at_end, "when a finite stream ends: stop the run, or wait for more");
    v.field("poll_seconds", &ContinuousOptions::poll_seconds,
            "how often an idle input (a followed file, a watched folder) is looked at again", in_range(0.001, 60.0));
  }
};

/// One entry of `data.sources`: a source of its own, mixed into training by share. Its
/// sections start from the `data` section's, so only what differs needs saying.
struct SourceOptions {
  std::string name;
  double weight = 1.0;
  double min_share = 0.0;
  double max_share = 1.0;
  std::string source;
  std::string path;
  int64_t max_records = 0;
  UnseenOptions unseen;
  SyntheticOptions synthetic;
  TextOptions text;
  WeakLabelOptions weak_labels;

  template <class V>
  static void describe(V& v) {
    v.field("name", &SourceOptions::name, "what logs, the manifest and the report call this source", required());
    v.field("weight", &SourceOptions::weight,
            "relative share of training examples drawn from this source (shares are weights over their sum)",
            at_least(0.0));
    v.field("min_share", &SourceOptions::min_share, "the share never falls below this", in_range(0.0, 1.0));
    v.field("max_share", &SourceOptions::max_share, "the share never rises above this", in_range(0.0, 1.0));
    v.field("source", &SourceOptions::source, "registered data source (see `stratum info`)", required());
    v.field("path", &SourceOptions::path, "file, pattern or folder this source reads");
    v.field("max_records", &SourceOptions::max_records, "read at most this many training records (0: all)",
            at_least(0));
    v.section("unseen", &SourceOptions::unseen, "how this source's unseen split is held out (default: data.unseen)");
    v.section("synthetic", &SourceOptions::synthetic, "source: synthetic (default: data.synthetic)");
    v.section("text", &SourceOptions::text, "text sources (default: data.text)");
    v.section("weak_labels", &SourceOptions::weak_labels, "source: weak_labels (default: data.weak_labels)");
  }
};

/// Where training data comes from and how it is split.
struct DataOptions {
  std::string source;
  std::string path;
  double validation_fraction = 0.1;
  int64_t max_records = 0;
  double max_reject_fraction = 0.01;
  int64_t prefetch = 4;
  int64_t max_classes = 4096;
  Pack pack = Pack::contiguous;
  std::vector<std::string> labels;
  ReservoirOptions reservoir;
  DriftOptions drift;
  UnseenOptions unseen;
  SyntheticOptions synthetic;
  TextOptions text;
  TokenizerOptions tokenizer;
  WeakLabelOptions weak_labels;
  ImageOptions image;
  int64_t workers = 0;
  std::vector<SourceOptions> sources;
  ContinuousOptions continuous;
  RedactOptions redact;

  /// A `data.sources` entry's defaults: this section's source settings.
  SourceOptions source_defaults() const {
    SourceOptions entry;
    entry.unseen = unseen;
    entry.synthetic = synthetic;
    entry.text = text;
    entry.weak_labels = weak_labels;
    return entry;
  }

  /// The options one source of a mix reads with: this section with the entry's settings.
  DataOptions for_source(const SourceOptions& entry) const {
    DataOptions out = *this;
    out.sources.clear();
    out.source = entry.source;
    out.path = entry.path;
    out.max_records = entry.max_records;
    out.unseen = entry.unseen;
    out.synthetic = entry.synthetic;
    out.text = entry.text;
    out.weak_labels = entry.weak_labels;
    return out;
  }

  template <class V>
  static void describe(V& v) {
    v.field("source", &DataOptions::source, "registered data source (see `stratum info`); or list data.sources");
    v.field("path", &DataOptions::path, "file, pattern (logs/*.jsonl.zst) or folder the source reads (- for standard input)");
    v.field("validation_fraction", &DataOptions::validation_fraction,
            "share of the training stream held out for validation", in_range(0.0, 0.5));
    v.field("max_records", &DataOptions::max_records, "read at most this many training records (0: all)", at_least(0));
    v.field("max_reject_fraction", &DataOptions::max_reject_fraction,
            "share of rejected records after which the run stops", in_range(0.0, 1.0));
    v.field("labels", &DataOptions::labels,
            "the allowed labels, in class-id order; records with any other label are rejected (empty: any)");
    v.field("prefetch", &DataOptions::prefetch, "batches gathered ahead on a background thread (0: none)",
            in_range(0, 1024));
    v.field("max_classes", &DataOptions::max_classes,
            "most distinct labels a stream may hold (evaluation keeps a classes x classes confusion matrix); "
            "records with more are rejected", in_range(2, 65536));
    v.field("pack", &DataOptions::pack,
            "token_shards: contiguous windows run across documents (each ends with the end-of-text token); "
            "documents: attention and positions restart at every document in a window");
    v.section("reservoir", &DataOptions::reservoir, "stratified per-label reservoirs");
    v.section("drift", &DataOptions::drift, "drift monitoring of the training stream");
    v.section("unseen", &DataOptions::unseen, "how the unseen split is held out");
    v.section("synthetic", &DataOptions::synthetic, "the synthetic drifting stream (source: synthetic)");
    v.section("text", &DataOptions::text, "text sources (source: text or fortunes)");
    v.section("tokenizer", &DataOptions::tokenizer, "how text becomes tokens");
    v.section("weak_labels", &DataOptions::weak_labels, "labels combined from labeling functions (source: weak_labels)");
    v.section("image", &DataOptions::image, "image sources (image_folder, image_list, webdataset)");
    v.field("workers", &DataOptions::workers,
            "threads that decode and augment image batches ahead of training (0: cores - 1)", in_range(0, 256));
    v.section("continuous", &DataOptions::continuous, "the live stream of a continuous run (trainer.mode: continuous)");
    v.section("redact", &DataOptions::redact,
              "sensitive values removed from every text record as it is read, before anything keeps it");
    // Last: its entries start from the sections above, parsed by then.
    v.list("sources", &DataOptions::sources, &DataOptions::source_defaults,
           "several sources mixed by weight, each with its own reservoirs (instead of data.source)");
  }
};

}  // namespace stratum::data
