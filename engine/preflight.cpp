#include "engine/preflight.h"

#include <fstream>
#include <set>

#include "engine/evaluator.h"
#include "engine/memory_plan.h"
#include "engine/registry.h"
#include "core/system_info.h"
#include "core/text.h"
#include "core/torch_compat.h"
#include "core/data_spec.h"
#include "data/mixing/mix_shares.h"

namespace stratum {
namespace {

// data.source, or each entry of data.sources: registered, and its own settings sound.
void check_sources(const RunConfig& config, const Registry& registry) {
  const data::DataOptions& d = config.data;
  const auto check_one = [&](const std::string& prefix, const std::string& source, const data::SyntheticOptions& synthetic,
                             const data::WeakLabelOptions& weak) {
    if (!registry.data_sources.find(source)) config.fail(prefix + "source", registry.data_sources.unknown_message(source));
    if (source == "synthetic" && synthetic.classes > d.max_classes) {
      config.fail(prefix + "synthetic.classes", "is more than data.max_classes (" + std::to_string(d.max_classes) + ")");
    }
    if (source == "weak_labels" && !weak.votes.empty() && !std::ifstream(weak.votes)) {
      config.fail(prefix + "weak_labels.votes", "cannot open " + weak.votes);
    }
  };
  if (d.sources.empty()) {
    if (d.source.empty()) config.fail("data.source", "missing: name a data source (see `stratum info`) or list data.sources");
    check_one("data.", d.source, d.synthetic, d.weak_labels);
    return;
  }
  if (!d.source.empty()) {
    config.fail("data.source", "set either data.source (one source) or data.sources (several), not both");
  }
  std::set<std::string> names;
  for (size_t i = 0; i < d.sources.size(); ++i) {
    const data::SourceOptions& entry = d.sources[i];
    const std::string prefix = "data.sources[" + std::to_string(i) + "].";
    if (!names.insert(entry.name).second) config.fail(prefix + "name", "\"" + entry.name + "\" names two sources");
    if (entry.source == "token_shards") {
      config.fail(prefix + "source", "token shards cannot be mixed with other sources yet; train on one token_shards folder");
    }
    check_one(prefix, entry.source, entry.synthetic, entry.weak_labels);
  }
  data::resolve_mix_shares(d.sources);  // impossible weights and bounds, before anything is read
}

// A metric named in the config: "SPLIT.METRIC" or nothing.
void check_metric_key(const RunConfig& config, const std::string& key, const std::string& value) {
  if (!value.empty() && !is_metric_key(value)) {
    config.fail(key, "expected SPLIT.METRIC with SPLIT one of seen, validation, unseen and METRIC one of " +
                         join(selectable_metrics(), ", ") + ", got \"" + value + "\"");
  }
}

// Early stopping judges evaluations during training; the weight average is kept whole on one
// process (a split model's parts would each average a part) and beside an offline run's weights.
void check_early_stopping_and_average(const RunConfig& config) {
  const TrainerOptions& t = config.trainer;
  check_metric_key(config, "trainer.early_stopping.metric", t.early_stopping.metric);
  if (!t.early_stopping.metric.empty()) {
    if (t.mode == TrainingMode::continuous) {
      config.fail("trainer.early_stopping.metric", "a continuous run has no end to stop early; its promotion gate "
                                                   "(continuous.promote) keeps the best weights");
    }
    if (config.eval.every <= 0) {
      config.fail("trainer.early_stopping.metric", "needs evaluations during training: set eval.every to the steps "
                                                   "between them");
    }
    if (t.early_stopping.restore_best && config.distributed.tensor_parallel > 1) {
      config.fail("trainer.early_stopping.restore_best", "the best weights are not kept for a model split over "
                                                         "processes (distributed.tensor_parallel > 1); set it to false");
    }
  }
  if (t.schedule == Schedule::range_test && !(t.min_lr_ratio > 0)) {
    config.fail("trainer.min_lr_ratio", "range_test rises from lr * min_lr_ratio, which must be above 0");
  }
  if (t.ema.enabled()) {
    if (t.mode == TrainingMode::continuous) {
      config.fail("trainer.ema.decay", "a continuous run promotes its live weights; the average is for offline runs");
    }
    if (config.distributed.tensor_parallel > 1) {
      config.fail("trainer.ema.decay", "the weight average is not kept for a model split over processes "
                                       "(distributed.tensor_parallel > 1)");
    }
  }
}

// A continuous run reads one live stream and may never end: what offline runs take from the
// stream's end (epochs, a decaying schedule's length, a held-out file) it must be told.
void check_continuous(const RunConfig& config) {
  const data::DataOptions& d = config.data;
  if (!d.sources.empty()) config.fail("data.sources", "a continuous run reads one live stream (data.source)");
  if (d.source != "text" && d.source != "synthetic") {
    config.fail("data.source", "\"" + d.source + "\" cannot be read as a live stream; a continuous run reads source: "
                               "text (lines or jsonl) or source: synthetic");
  }
  if (d.unseen.by == data::UnseenBy::file || d.unseen.by == data::UnseenBy::source) {
    config.fail("data.unseen.by", "a continuous run holds out by label, time or none");
  }
  if (config.trainer.steps == 0 && config.trainer.schedule != Schedule::constant) {
    config.fail("trainer.schedule", "decays over trainer.steps, and a continuous run without trainer.steps never "
                                    "ends; use schedule: constant or set trainer.steps");
  }
  if (d.continuous.min_ready > d.reservoir.max_items) {
    config.fail("data.continuous.min_ready", "larger than data.reservoir.max_items (" +
                                                 std::to_string(d.reservoir.max_items) + "): the reservoirs never hold that many");
  }
  if (config.trainer.class_weights == ClassWeights::balanced) {
    config.fail("trainer.class_weights", "balanced weighs classes by a fixed split's counts; a continuous run's "
                                         "reservoirs balance the classes as the stream goes (data.reservoir quotas)");
  }
  const PromotionOptions& promote = config.continuous.promote;
  if (!promote.metric.empty() && promote.every == 0 && config.eval.every == 0) {
    config.fail("continuous.promote.every", "candidates are judged at evaluations; set eval.every or promote.every");
  }
}

}  // namespace

void preflight(const RunConfig& config, const Registry& registry) {
  check_sources(config, registry);
  if (!registry.models.find(config.model.name)) {
    config.fail("model.name", registry.models.unknown_message(config.model.name));
  }
  if (config.trainer.device == DeviceChoice::cuda && !compat::cuda_available()) {
    config.fail("trainer.device", "\"cuda\" was asked for but no CUDA device is available (use cpu or auto)");
  }
  if (config.model.num_classes > config.data.max_classes) {
    config.fail("model.num_classes", std::to_string(config.model.num_classes) + " is more than data.max_classes (" +
                                         std::to_string(config.data.max_classes) + "); raise data.max_classes too");
  }
  if (static_cast<int64_t>(config.data.labels.size()) > config.data.max_classes) {
    config.fail("data.labels", "lists " + std::to_string(config.data.labels.size()) + " labels, more than data.max_classes (" +
                                   std::to_string(config.data.max_classes) + ")");
  }
  if (config.data.pack == data::Pack::documents && config.data.source != "token_shards") {
    config.fail("data.pack", "documents packs the windows of token shards (data.source: token_shards); " +
                                 (config.data.source.empty() ? std::string("a mix of sources pads") :
                                                               "the " + config.data.source + " source pads") +
                                 " each record instead");
  }
  if (config.trainer.mode == TrainingMode::offline && config.trainer.steps == 0 && config.trainer.epochs == 0) {
    config.fail("trainer.steps", "set trainer.steps or trainer.epochs to a positive number");
  }

  check_metric_key(config, "trainer.checkpoint.best_metric", config.trainer.checkpoint.best_metric);
  check_metric_key(config, "continuous.promote.metric", config.continuous.promote.metric);
  check_early_stopping_and_average(config);
  if (config.trainer.mode == TrainingMode::continuous) check_continuous(config);

  if (!config.data.tokenizer.path.empty() && !std::ifstream(config.data.tokenizer.path)) {
    config.fail("data.tokenizer.path", "cannot open " + config.data.tokenizer.path +
                                           " (write one with `stratum data tokenizer --config ...`, or name a "
                                           "folder with GPT-2's vocab.json and merges.txt)");
  }
  if (!config.model.init_from.empty() && !std::ifstream(config.model.init_from)) {
    config.fail("model.init_from", "cannot open " + config.model.init_from);
  }

  // float16 autocast runs on CUDA, and on the CPU only with LibTorch 2.4 or later.
  const bool cuda = config.trainer.device == DeviceChoice::cuda ||
                    (config.trainer.device == DeviceChoice::automatic && compat::cuda_available());
  if (config.trainer.precision == Precision::fp16 && !cuda && !compat::cpu_half_autocast()) {
    config.fail("trainer.precision", "fp16 on the CPU needs LibTorch 2.4 or later (this build has " +
                                         compat::torch_version() + "); use bf16, or train on a CUDA device");
  }

  check_slice_config(config);
  if (!config.eval.slices.empty() && config.distributed.stream == distributed::StreamSharding::sharded) {
    config.fail("eval.slices", "distributed.stream: sharded gives each replica its own part of the held-out splits; "
                               "evaluation by slice needs the whole splits on every rank (stream: replicated)");
  }

  if (config.logging.sample_every > 0) {
    if (config.logging.sample_prompts.empty()) config.fail("logging.sample_prompts", "no prompts to continue");
    for (const std::string& prompt : config.logging.sample_prompts) {
      if (prompt.empty()) config.fail("logging.sample_prompts", "a prompt is empty");
    }
  }

  // Tensor parallelism splits float weights and attention heads; what it cannot split is refused here.
  if (config.distributed.tensor_parallel > 1) {
    const std::string tp = " with distributed.tensor_parallel > 1";
    if (config.quantization.mode != adapters::QuantMode::none) {
      config.fail("quantization.mode", "quantized base weights are not split across ranks" + tp +
                                           "; train the float model (with LoRA) or quantize on one device");
    }
    if (config.adapters.prefix.enabled) {
      config.fail("adapters.prefix.enabled", "prefix-tuning is not split across ranks" + tp + "; use LoRA");
    }
    if (config.logging.sample_every > 0) {
      config.fail("logging.sample_every", "a split model does not decode" + tp + "; sample from its checkpoint "
                                          "with stratum generate");
    }
  }
}

void check_against_data(const RunConfig& config, const Registry& registry, const data::DataSpec& spec) {
  if (config.model.num_classes > 0 && config.model.num_classes < spec.num_classes) {
    config.fail("model.num_classes", std::to_string(config.model.num_classes) + " classes, but the data has " +
                                         std::to_string(spec.num_classes) + "; its labels " +
                                         std::to_string(config.model.num_classes) + " and up would have no output "
                                         "(set 0 to take the data's)");
  }
  const MixupOptions& mixup = config.trainer.mixup;
  if (mixup.enabled() && spec.kind == data::InputKind::tokens) {
    config.fail(mixup.mixup_alpha > 0 ? "trainer.mixup.mixup_alpha" : "trainer.mixup.cutmix_alpha",
                "Mixup and CutMix blend float inputs (images, features); this data is token ids");
  }
  if (mixup.cutmix_alpha > 0 && spec.kind != data::InputKind::images) {
    config.fail("trainer.mixup.cutmix_alpha", "CutMix pastes image patches; this data is feature vectors (use mixup_alpha)");
  }
  check_memory_plan(config, plan_memory(config, registry, spec), available_memory_bytes());
}

}  // namespace stratum
