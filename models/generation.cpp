#include "models/generation.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>

#include "core/error.h"
#include "models/decoder.h"
#include "models/model.h"

namespace stratum::models {

int64_t choose_token(const std::vector<double>& logits, const GenerationOptions& options, double uniform) {
  STRATUM_CHECK(!logits.empty(), "a row of logits");
  if (options.temperature <= 0) {
    return std::max_element(logits.begin(), logits.end()) - logits.begin();  // the first maximum
  }
  // Most likely first (ties: lower id first), so top-k and top-p keep a deterministic prefix.
  std::vector<int64_t> order(logits.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return logits[a] > logits[b]; });
  size_t keep = order.size();
  if (options.top_k > 0) keep = std::min(keep, static_cast<size_t>(options.top_k));
  const double top = logits[order[0]] / options.temperature;
  std::vector<double> weights(keep);
  double total = 0;
  for (size_t i = 0; i < keep; ++i) total += weights[i] = std::exp(logits[order[i]] / options.temperature - top);
  if (options.top_p < 1) {
    double cumulative = 0;
    size_t nucleus = 0;
    while (nucleus < keep && cumulative < options.top_p * total) cumulative += weights[nucleus++];
    keep = std::max<size_t>(nucleus, 1);
    total = std::accumulate(weights.begin(), weights.begin() + static_cast<std::ptrdiff_t>(keep), 0.0);
  }
  double target = uniform * total;
  for (size_t i = 0; i < keep; ++i) {
    if (target < weights[i]) return order[i];
    target -= weights[i];
  }
  return order[keep - 1];  // rounding at the very end of the distribution
}

std::vector<Generation> generate(Model& model, const std::vector<std::vector<int64_t>>& prompts,
                                 const GenerationOptions& options, const TokenCallback& on_token) {
  Decoder* decoder = model.decoder();
  STRATUM_CHECK(decoder, "the model decodes (callers check decoder())");
  const int64_t batch = static_cast<int64_t>(prompts.size());
  std::vector<Generation> out(prompts.size());
  if (batch == 0) return out;
  torch::NoGradGuard no_grad;
  const bool was_training = model.is_training();
  model.eval();
  const torch::Device device = model.parameters().empty() ? torch::Device(torch::kCPU) : model.parameters()[0].device();

  // Left padding: every prompt ends in the last column, so each step appends one column.
  int64_t longest = 0;
  for (const auto& prompt : prompts) {
    STRATUM_CHECK(!prompt.empty() && static_cast<int64_t>(prompt.size()) <= decoder->context(),
                  "prompts are not empty and fit the context (callers check)");
    longest = std::max<int64_t>(longest, static_cast<int64_t>(prompt.size()));
  }
  std::vector<int64_t> tokens(static_cast<size_t>(batch * longest), options.pad_token), positions(tokens.size(), 0);
  std::vector<uint8_t> keep(tokens.size(), 0);
  std::vector<int64_t> next_position(prompts.size());
  for (int64_t b = 0; b < batch; ++b) {
    const auto& prompt = prompts[static_cast<size_t>(b)];
    const int64_t pad = longest - static_cast<int64_t>(prompt.size());
    for (size_t j = 0; j < prompt.size(); ++j) {
      const size_t at = static_cast<size_t>(b * longest + pad) + j;
      tokens[at] = prompt[j];
      positions[at] = static_cast<int64_t>(j);
      keep[at] = 1;
    }
    next_position[static_cast<size_t>(b)] = static_cast<int64_t>(prompt.size());
  }
  const auto long_options = torch::TensorOptions().dtype(torch::kLong);
  torch::Tensor all_tokens = torch::tensor(tokens, long_options).view({batch, longest}).to(device);
  torch::Tensor all_positions = torch::tensor(positions, long_options).view({batch, longest}).to(device);
  torch::Tensor all_keep = torch::tensor(std::vector<int64_t>(keep.begin(), keep.end()), long_options)
                               .view({batch, longest}).to(torch::kBool).to(device);

  std::mt19937_64 stream(options.seed);
  const auto uniform = [&] { return static_cast<double>(stream() >> 11) * 0x1.0p-53; };
  KeyValueCache cache;
  torch::Tensor step_tokens = all_tokens, step_positions = all_positions;
  for (int64_t step = 0; step < options.max_new_tokens; ++step) {
    torch::Tensor logits;
    if (options.use_cache) {
      logits = decoder->forward_cached(step_tokens, step_positions, all_keep, cache);
    } else {
      KeyValueCache fresh;
      logits = decoder->forward_cached(all_tokens, all_positions, all_keep, fresh);
    }
    const torch::Tensor last = logits.select(1, logits.size(1) - 1).to(torch::kFloat64).cpu().contiguous();  // (B, V)
    const int64_t vocab = last.size(1);
    std::vector<int64_t> chosen(prompts.size(), options.pad_token);
    bool any_running = false;
    for (int64_t b = 0; b < batch; ++b) {
      const size_t i = static_cast<size_t>(b);
      if (!out[i].finish.empty()) continue;  // ended at an earlier step
      const double* row = last.data_ptr<double>() + b * vocab;
      const int64_t token = choose_token(std::vector<double>(row, row + vocab), options, uniform());
      chosen[i] = token;
      out[i].tokens.push_back(token);
      const bool stop = on_token && on_token(i, token);
      if (token == options.end_token) {
        out[i].finish = "end";
      } else if (stop) {
        out[i].finish = "stop";
      } else if (next_position[i] >= decoder->context()) {
        out[i].finish = "context";  // the token was predicted, but it has no position to be read at
      }
      any_running |= out[i].finish.empty();
    }
    if (!any_running) break;
    if (step + 1 == options.max_new_tokens) break;
    // One column: each running row's token at its next position; finished rows add padding.
    std::vector<int64_t> column_positions(prompts.size()), column_keep(prompts.size());
    for (size_t i = 0; i < prompts.size(); ++i) {
      column_positions[i] = std::min(next_position[i], decoder->context() - 1);
      const bool running = out[i].finish.empty();
      column_keep[i] = running ? 1 : 0;
      if (running) ++next_position[i];
    }
    step_tokens = torch::tensor(chosen, long_options).view({batch, 1}).to(device);
    step_positions = torch::tensor(column_positions, long_options).view({batch, 1}).to(device);
    all_tokens = torch::cat({all_tokens, step_tokens}, 1);
    all_positions = torch::cat({all_positions, step_positions}, 1);
    all_keep = torch::cat({all_keep, torch::tensor(column_keep, long_options).view({batch, 1}).to(torch::kBool).to(device)}, 1);
  }
  for (auto& g : out) {
    if (g.finish.empty()) g.finish = "length";
  }
  model.train(was_training);
  return out;
}

}  // namespace stratum::models
