#include "engine/experiments/run_summary.h"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/read_file.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace stratum::experiments {
namespace {

double number_or_nan(const json& j, const char* key) {
  return j.contains(key) && j[key].is_number() ? j[key].get<double>() : std::nan("");
}

// A hand-edited file may hold any type anywhere: a field that is not text reads as `fallback`.
std::string text_or(const json& j, const char* key, const std::string& fallback) {
  return j.is_object() && j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : fallback;
}

}  // namespace

double RunSummary::metric(const std::string& key) const {
  for (const auto& [k, v] : metrics) {
    if (k == key) return v;
  }
  return std::nan("");
}

const std::vector<std::string>& reported_metrics(bool language_model) {
  static const std::vector<std::string> classifier = {"loss", "accuracy", "macro_f1", "expected_calibration_error"};
  static const std::vector<std::string> lm = {"loss", "perplexity", "token_accuracy"};
  return language_model ? lm : classifier;
}

RunSummary read_run_summary(const std::string& dir) {
  RunSummary s;
  s.dir = dir;
  std::error_code ec;
  const fs::path root(dir);
  if (!fs::is_directory(root, ec)) throw UserError(dir + ": not a run directory");
  const bool has_eval = fs::is_regular_file(root / "eval.json", ec);
  const bool has_metrics = fs::is_regular_file(root / "metrics.jsonl", ec);
  if (!has_eval && !has_metrics) throw UserError(dir + ": not a run directory (no eval.json or metrics.jsonl)");
  if (has_eval) {
    const json e = json::parse(read_file((root / "eval.json").string()).value_or(""), nullptr, false);
    if (e.is_discarded() || !e.is_object()) throw UserError(dir + "/eval.json: not JSON");
    s.evaluated = true;
    s.steps = e.contains("step") && e["step"].is_number_integer() ? e["step"].get<int64_t>() : 0;
    if (e.contains("weights") && e["weights"].is_object()) s.weights = text_or(e["weights"], "evaluated", "");
    if (e.contains("model") && e["model"].is_object()) {
      const double rss = number_or_nan(e["model"], "peak_rss_bytes"), cuda = number_or_nan(e["model"], "peak_cuda_allocated_bytes");
      if (!std::isnan(rss)) s.peak_rss_bytes = rss;
      if (!std::isnan(cuda)) s.peak_cuda_bytes = cuda;
    }
    if (e.contains("splits") && e["splits"].is_object()) {
      for (const char* split : {"seen", "validation", "unseen"}) {
        if (!e["splits"].contains(split) || !e["splits"][split].is_object()) continue;
        const json& j = e["splits"][split];
        if (j.contains("perplexity")) s.language_model = true;
        if (number_or_nan(j, "samples") == 0) continue;
        for (const std::string& m : reported_metrics(j.contains("perplexity"))) {
          s.metrics.emplace_back(std::string(split) + "." + m, number_or_nan(j, m.c_str()));
        }
      }
    }
  }
  if (has_metrics) {
    std::ifstream in(root / "metrics.jsonl");
    std::string line;
    double throughput_sum = 0;
    int64_t windows = 0;
    while (std::getline(in, line)) {
      const json r = json::parse(line, nullptr, false);
      if (r.is_discarded() || !r.is_object()) continue;
      const std::string kind = text_or(r, "kind", "");
      const double step = number_or_nan(r, "step");
      if (kind == "train") {
        s.train_loss.emplace_back(step, number_or_nan(r, "loss"));
        const double t = number_or_nan(r, "samples_per_second");
        s.throughput.emplace_back(step, t);
        if (std::isfinite(t)) throughput_sum += t, ++windows;
      } else if (kind == "eval") {
        const std::string split = text_or(r, "split", "?");
        if (r.contains("perplexity")) s.score_name = "perplexity";
        s.eval_loss[split].emplace_back(step, number_or_nan(r, "loss"));
        s.eval_score[split].emplace_back(step, number_or_nan(r, s.score_name.c_str()));
      }
    }
    if (windows > 0) s.samples_per_second = throughput_sum / static_cast<double>(windows);
  }
  return s;
}

}  // namespace stratum::experiments
