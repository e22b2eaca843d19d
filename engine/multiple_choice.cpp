#include "engine/multiple_choice.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <fstream>

#include "core/bootstrap.h"
#include "core/error.h"
#include "data/tokenizer/tokenizer.h"
#include "engine/generation_prompts.h"
#include "models/choice_scoring.h"

namespace stratum {
namespace {

const nlohmann::json* field(const nlohmann::json& row, const char* name, const char* other) {
  if (const auto it = row.find(name); it != row.end()) return &*it;
  if (const auto it = row.find(other); it != row.end()) return &*it;
  return nullptr;
}

}  // namespace

std::vector<ChoiceItem> read_choice_items(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw UserError("--data: cannot open " + path);
  std::vector<ChoiceItem> out;
  std::string line;
  for (int64_t number = 1; std::getline(in, line); ++number) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    ChoiceItem item;
    item.where = path + ":" + std::to_string(number);
    const nlohmann::json row = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (!row.is_object()) throw UserError(item.where + ": not a JSON object");
    const nlohmann::json* context = field(row, "ctx", "context");
    if (!context || !context->is_string() || context->get<std::string>().empty()) {
      throw UserError(item.where + ": needs a non-empty string \"ctx\" (or \"context\")");
    }
    item.context = context->get<std::string>();
    const auto endings = row.find("endings");
    if (endings == row.end() || !endings->is_array() || endings->size() < 2) {
      throw UserError(item.where + ": needs \"endings\": an array of at least two strings");
    }
    for (const auto& e : *endings) {
      if (!e.is_string() || e.get<std::string>().empty()) throw UserError(item.where + ": an ending is not a non-empty string");
      item.endings.push_back(e.get<std::string>());
    }
    const nlohmann::json* gold = field(row, "label", "gold");
    int64_t index = -1;
    if (gold && gold->is_number_integer()) {
      index = gold->get<int64_t>();
    } else if (gold && gold->is_string()) {
      const std::string digits = gold->get<std::string>();  // HellaSwag's files write the index as a string
      const bool number = !digits.empty() && digits.size() < 10 &&
                          std::all_of(digits.begin(), digits.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); });
      if (number) index = std::stoll(digits);
    }
    if (index < 0 || index >= static_cast<int64_t>(item.endings.size())) {
      throw UserError(item.where + ": \"label\" (or \"gold\") must be the index of one of its " +
                      std::to_string(item.endings.size()) + " endings");
    }
    item.gold = index;
    out.push_back(std::move(item));
  }
  if (out.empty()) throw UserError("--data: " + path + " holds no items");
  return out;
}

ChoiceEvaluation evaluate_choices(models::Model& model, const std::vector<ChoiceItem>& items,
                                  const data::Tokenizer& tokenizer, int64_t max_length, uint64_t seed) {
  ChoiceEvaluation out;
  std::vector<int> by_sum, by_mean;
  for (const ChoiceItem& item : items) {
    const std::vector<int64_t> context = token_ids(tokenizer, item.context);
    const bool context_spaced = std::isspace(static_cast<unsigned char>(item.context.back()));
    std::vector<std::vector<int64_t>> endings;
    for (const std::string& e : item.endings) {
      const bool spaced = context_spaced || std::isspace(static_cast<unsigned char>(e.front()));
      endings.push_back(token_ids(tokenizer, spaced ? e : " " + e));
    }
    const std::vector<models::EndingScore> scores =
        models::score_endings(model, context, endings, tokenizer.pad_id(), max_length);
    size_t best_sum = 0, best_mean = 0;
    nlohmann::ordered_json row;
    row["item"] = item.where;
    row["gold"] = item.gold;
    for (size_t i = 0; i < scores.size(); ++i) {
      if (scores[i].sum > scores[best_sum].sum) best_sum = i;  // ties: the first
      if (scores[i].mean() > scores[best_mean].mean()) best_mean = i;
      row["sum_log_likelihood"].push_back(scores[i].sum);
      row["mean_log_likelihood"].push_back(scores[i].mean());
      row["tokens"].push_back(scores[i].tokens);
    }
    row["pick"] = best_sum;
    row["pick_normalized"] = best_mean;
    by_sum.push_back(static_cast<int64_t>(best_sum) == item.gold);
    by_mean.push_back(static_cast<int64_t>(best_mean) == item.gold);
    out.per_item_jsonl += row.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  }
  out.items = static_cast<int64_t>(items.size());
  const auto mean = [](const std::vector<int>& v) {
    return static_cast<double>(std::count(v.begin(), v.end(), 1)) / static_cast<double>(v.size());
  };
  out.accuracy = mean(by_sum);
  out.normalized = mean(by_mean);
  std::tie(out.accuracy_low, out.accuracy_high) = bootstrap_mean_interval({by_sum.begin(), by_sum.end()}, seed);
  std::tie(out.normalized_low, out.normalized_high) = bootstrap_mean_interval({by_mean.begin(), by_mean.end()}, seed + 1);
  return out;
}

}  // namespace stratum
