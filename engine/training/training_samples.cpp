// Greedy continuations of `logging.sample_prompts` every `logging.sample_every` steps: how a
// language model's text develops, in the log, metrics.jsonl ("sample" records) and the report.

#include <torch/torch.h>

#include "core/log.h"
#include "core/text.h"
#include "data/tokenizer/tokenizer.h"
#include "engine/generation_prompts.h"
#include "engine/training/training_run.h"
#include "models/decoder.h"
#include "models/generation.h"

namespace stratum::training {

// Before the first step: a model that cannot decode, or a prompt that does not fit, is refused
// by name rather than at the first sample. The tokenizer is loaded here, once.
void TrainingRun::check_sampling() {
  if (config_.logging.sample_every <= 0) return;
  models::Decoder* decoder = model_->decoder();
  if (!decoder) {
    config_.fail("logging.sample_every", "model " + config_.model.name + " does not generate text (gpt-* models do)");
  }
  sample_tokenizer_ = data::load_tokenizer(config_.data.tokenizer.path);
  const data::Tokenizer& tokenizer = *sample_tokenizer_;
  for (size_t i = 0; i < config_.logging.sample_prompts.size(); ++i) {
    Prompt prompt = text_prompt("logging.sample_prompts[" + std::to_string(i) + "]", config_.logging.sample_prompts[i],
                                tokenizer);
    check_prompt(prompt, tokenizer, decoder->context());
  }
}

// Rank 0 only (greedy decoding draws no random numbers and runs in evaluation mode, so the
// training stream is untouched: the losses are the same with and without samples).
void TrainingRun::sample_during_training(int64_t step) {
  const LoggingOptions& logging = config_.logging;
  if (logging.sample_every <= 0 || step % logging.sample_every != 0 || !ranks_.primary) return;
  const data::Tokenizer& tokenizer = *sample_tokenizer_;
  std::vector<std::vector<int64_t>> prompts;
  for (const std::string& text : logging.sample_prompts) prompts.push_back(token_ids(tokenizer, text));
  models::GenerationOptions options;
  options.max_new_tokens = logging.sample_tokens;
  options.pad_token = tokenizer.pad_id();
  const std::vector<models::Generation> samples = models::generate(*model_, prompts, options);
  for (size_t i = 0; i < samples.size(); ++i) {
    const std::string& prompt = logging.sample_prompts[i];
    const std::string text = token_text(tokenizer, samples[i].tokens);
    log::info("sample at step " + std::to_string(step) + ": " + printable(prompt + text));
    MetricRecord record;
    record.kind = "sample";
    record.step = step;
    record.add("prompt", prompt).add("text", text);
    metrics_->write(record);
  }
}

}  // namespace stratum::training
