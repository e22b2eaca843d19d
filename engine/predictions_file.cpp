#include "engine/predictions_file.h"

#include <fstream>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/text.h"
#include "engine/evaluator.h"

namespace stratum {

std::string predictions_json(const std::vector<SplitEvaluation>& splits) {
  nlohmann::ordered_json out;
  out["format"] = 1;
  out["splits"] = nlohmann::ordered_json::object();
  for (const SplitEvaluation& s : splits) {
    const ExampleOutcomes& o = s.outcomes;
    if (s.split == "seen" || o.size() == 0) continue;
    nlohmann::ordered_json j;
    j["language_model"] = o.language_model;
    j["num_classes"] = o.num_classes;
    j["example"] = o.example;
    if (o.language_model) {
      j["loss"] = o.loss;
      j["tokens"] = o.tokens;
      j["correct_tokens"] = o.correct_tokens;
    } else {
      j["target"] = o.target;
      j["predicted"] = o.predicted;
    }
    out["splits"][s.split] = j;
  }
  return out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

std::map<std::string, ExampleOutcomes> read_predictions(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw UserError(path + ": cannot open");
  const nlohmann::json json = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded() || !json.is_object() || !json.contains("splits") || !json["splits"].is_object()) {
    throw UserError(path + ": not a predictions.json (expected {\"format\": 1, \"splits\": {...}})");
  }
  std::map<std::string, ExampleOutcomes> out;
  try {
    for (const auto& [name, j] : json["splits"].items()) {
      ExampleOutcomes o;
      o.language_model = j.at("language_model").get<bool>();
      o.num_classes = j.at("num_classes").get<int64_t>();
      o.example = j.at("example").get<std::vector<int64_t>>();
      const size_t n = o.example.size();
      if (o.language_model) {
        o.loss = j.at("loss").get<std::vector<double>>();
        o.tokens = j.at("tokens").get<std::vector<int64_t>>();
        o.correct_tokens = j.at("correct_tokens").get<std::vector<int64_t>>();
        if (o.loss.size() != n || o.tokens.size() != n || o.correct_tokens.size() != n) throw UserError("");
      } else {
        o.target = j.at("target").get<std::vector<int64_t>>();
        o.predicted = j.at("predicted").get<std::vector<int64_t>>();
        if (o.target.size() != n || o.predicted.size() != n || o.num_classes < 1 || o.num_classes > 65536) {
          throw UserError("");
        }
        for (size_t i = 0; i < n; ++i) {
          if (o.target[i] < -1 || o.target[i] >= o.num_classes || o.predicted[i] < 0 || o.predicted[i] >= o.num_classes) {
            throw UserError("");
          }
        }
      }
      out[name] = std::move(o);
    }
  } catch (const nlohmann::json::exception& e) {
    throw UserError(path + ": corrupt predictions (" + first_line(e.what()) + ")");
  } catch (const UserError&) {
    throw UserError(path + ": corrupt predictions (lengths or classes out of range)");
  }
  return out;
}

}  // namespace stratum
