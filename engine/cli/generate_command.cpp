// `stratum generate`: text from a trained language model (or reference weights), greedy or
// sampled, with a key/value cache.

#include <torch/torch.h>

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdio>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/log.h"
#include "data/tokenizer/tokenizer.h"
#include "engine/cli/args.h"
#include "engine/cli/commands.h"
#include "engine/generation_prompts.h"
#include "engine/language_model.h"
#include "models/decoder.h"
#include "models/generation.h"

namespace stratum::cli {
namespace {

}  // namespace

int generate_command(const Args& args, Registry& registry) {
  std::string checkpoint, config_path, weights, prompts_file, out_path, max_new = "64", temperature = "0", top_k = "0",
                                                                      top_p = "1", seed = "0", batch_text = "8",
                                                                      end_token = "-1";
  std::vector<std::string> overrides, plugins, prompt_texts, stops;
  bool no_cache = false;
  ArgParser parser("stratum generate",
                   "(--checkpoint PATH | --config FILE [--weights F.safetensors]) (--prompt TEXT... | --prompts FILE.jsonl) "
                   "[options]",
                   "Continue prompts with a trained language model: greedy (temperature 0) or sampled decoding with a "
                   "key/value cache, batched prompts of different lengths.");
  parser.option("--checkpoint", "PATH", "a checkpoint directory, or a run directory (its latest checkpoint)", &checkpoint);
  parser.option("--config", "FILE", "without --checkpoint: the model (and tokenizer) to build", &config_path);
  parser.repeated("--set", "KEY=VALUE", "with --config: override one config key", &overrides);
  parser.option("--weights", "FILE", "with --config: reference-layout weights to load (as model.init_from)", &weights);
  parser.repeated("--plugin", "LIB.so", "load a plugin (after the config's plugins:)", &plugins);
  parser.repeated("--prompt", "TEXT", "a prompt (repeatable)", &prompt_texts);
  parser.option("--prompts", "FILE", "JSONL prompts: {\"prompt\": \"text\"} or {\"tokens\": [ids]} per line", &prompts_file);
  parser.option("--max-new-tokens", "N", "tokens to add to each prompt (default 64)", &max_new);
  parser.option("--temperature", "T", "0 (default): greedy; above 0: sample from softmax(logits / T)", &temperature);
  parser.option("--top-k", "K", "sample among the K most likely tokens (default 0: all)", &top_k);
  parser.option("--top-p", "P", "sample among the most likely tokens whose probabilities reach P, in (0, 1]", &top_p);
  parser.option("--seed", "S", "the sampling stream's seed (default 0)", &seed);
  parser.option("--batch", "B", "prompts decoded together (default 8)", &batch_text);
  parser.repeated("--stop", "TEXT", "end a prompt's continuation once its text ends with TEXT (repeatable)", &stops);
  parser.option("--end-token", "ID", "a token id that ends a continuation (default: none)", &end_token);
  parser.option("--out", "FILE", "write one JSON line per prompt (tokens, text, finish, tokens/s)", &out_path);
  parser.flag("--no-cache", "recompute the whole sequence for every token (slow; for comparison)", &no_cache);
  if (!parser.parse(args)) {
    std::fputs(parser.help().c_str(), stdout);
    return kExitOk;
  }
  models::GenerationOptions options;
  options.max_new_tokens = parse_count_flag("--max-new-tokens", max_new, 1, 1 << 20);
  options.temperature = parse_number_flag("--temperature", temperature, 0, 1e6);
  options.top_k = parse_count_flag("--top-k", top_k, 0);
  options.top_p = parse_number_flag("--top-p", top_p, 0, 1);
  if (options.top_p <= 0) throw UserError("--top-p: " + top_p + " is not in (0, 1]");
  options.seed = static_cast<uint64_t>(parse_count_flag("--seed", seed, 0));
  options.use_cache = !no_cache;
  const int64_t batch = parse_count_flag("--batch", batch_text, 1, 4096);
  if (prompt_texts.empty() == prompts_file.empty()) throw UserError("stratum generate: give --prompt or --prompts (one of them)");

  const LanguageModel loaded = load_language_model({checkpoint, config_path, overrides, weights, plugins}, registry,
                                                   "stratum generate");
  models::Model& model = *loaded.model;
  const data::Tokenizer& tokenizer = *loaded.tokenizer;
  models::Decoder* decoder = model.decoder();
  if (!decoder) {
    throw UserError("stratum generate: model " + loaded.config.model.name + " does not generate text (gpt-* models do)");
  }
  options.pad_token = tokenizer.pad_id();
  options.end_token = parse_count_flag("--end-token", end_token, -1, tokenizer.vocab_size() - 1);

  std::vector<Prompt> prompts;
  if (!prompts_file.empty()) {
    prompts = read_prompt_file(prompts_file, tokenizer);
    if (prompts.empty()) throw UserError("--prompts: " + prompts_file + " holds no prompts");
  }
  for (size_t i = 0; i < prompt_texts.size(); ++i) {
    prompts.push_back(text_prompt("--prompt " + std::to_string(i + 1), prompt_texts[i], tokenizer));
  }
  for (Prompt& p : prompts) check_prompt(p, tokenizer, decoder->context());

  // Batches of prompts; a batch of one streams its tokens to stdout as they come.
  std::string jsonl;
  int64_t generated = 0;
  const auto started = std::chrono::steady_clock::now();
  for (size_t begin = 0; begin < prompts.size(); begin += static_cast<size_t>(batch)) {
    const size_t end = std::min(prompts.size(), begin + static_cast<size_t>(batch));
    const bool stream = end - begin == 1;
    std::vector<std::vector<int64_t>> token_lists;
    for (size_t i = begin; i < end; ++i) token_lists.push_back(prompts[i].tokens);
    std::vector<std::vector<int64_t>> so_far(end - begin);
    if (stream) {
      std::fputs(prompts[begin].text.c_str(), stdout);
      std::fflush(stdout);
    }
    const auto on_token = [&](size_t row, int64_t token) {
      so_far[row].push_back(token);
      if (stream) {
        std::fputs(token_text(tokenizer, {token}).c_str(), stdout);
        std::fflush(stdout);
      }
      if (stops.empty()) return false;
      const std::string text = token_text(tokenizer, so_far[row]);
      for (const std::string& s : stops) {
        if (!s.empty() && text.size() >= s.size() && text.compare(text.size() - s.size(), s.size(), s) == 0) return true;
      }
      return false;
    };
    const auto batch_started = std::chrono::steady_clock::now();
    const std::vector<models::Generation> results = models::generate(model, token_lists, options, on_token);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - batch_started).count();
    int64_t batch_tokens = 0;
    for (const auto& r : results) batch_tokens += static_cast<int64_t>(r.tokens.size());
    generated += batch_tokens;
    for (size_t row = 0; row < results.size(); ++row) {
      const Prompt& p = prompts[begin + row];
      const std::string text = token_text(tokenizer, results[row].tokens);
      if (stream) {
        std::fputs("\n", stdout);
      } else {
        std::printf("--- %s\n%s%s\n", p.where.c_str(), p.text.c_str(), text.c_str());
      }
      nlohmann::ordered_json line;
      line["prompt"] = p.text;
      line["prompt_tokens"] = p.tokens;
      line["tokens"] = results[row].tokens;
      line["text"] = text;
      line["finish"] = results[row].finish;
      line["tokens_per_second"] = seconds > 0 ? static_cast<double>(batch_tokens) / seconds : 0.0;
      jsonl += line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
    }
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  log::info("generated " + std::to_string(generated) + " tokens for " + std::to_string(prompts.size()) + " prompts in " +
            std::to_string(seconds) + " s (" + std::to_string(seconds > 0 ? generated / seconds : 0.0) +
            " tokens/s, key/value cache " + (options.use_cache ? "on" : "off") + ")");
  if (!out_path.empty()) {
    write_file_atomically(out_path, jsonl);
    std::printf("wrote %s\n", out_path.c_str());
  }
  std::fflush(stdout);
  return kExitOk;
}

}  // namespace stratum::cli
