#include "engine/generation_prompts.h"

#include <nlohmann/json.hpp>

#include <fstream>

#include "core/error.h"
#include "core/text.h"
#include "data/tokenizer/tokenizer.h"

namespace stratum {

std::vector<int64_t> token_ids(const data::Tokenizer& tokenizer, const std::string& text) {
  const std::vector<int32_t> ids = tokenizer.encode(text);
  return {ids.begin(), ids.end()};
}

std::string token_text(const data::Tokenizer& tokenizer, const std::vector<int64_t>& tokens) {
  return tokenizer.decode(std::vector<int32_t>(tokens.begin(), tokens.end()));
}

Prompt text_prompt(const std::string& where, const std::string& text, const data::Tokenizer& tokenizer) {
  return {where, text, token_ids(tokenizer, text)};
}

std::vector<Prompt> read_prompt_file(const std::string& path, const data::Tokenizer& tokenizer) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw UserError("--prompts: cannot open " + path);
  std::vector<Prompt> out;
  std::string line;
  for (int64_t number = 1; std::getline(in, line); ++number) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    const std::string where = path + ":" + std::to_string(number);
    const nlohmann::json row = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (!row.is_object()) throw UserError(where + ": not a JSON object ({\"prompt\": \"text\"} or {\"tokens\": [ids]})");
    if (const auto text = row.find("prompt"); text != row.end() && text->is_string()) {
      out.push_back(text_prompt(where, text->get<std::string>(), tokenizer));
    } else if (const auto ids = row.find("tokens"); ids != row.end() && ids->is_array()) {
      Prompt prompt{where, "", {}};
      for (const auto& id : *ids) {
        if (!id.is_number_integer()) throw UserError(where + ": \"tokens\" holds something other than integers");
        if (id.is_number_unsigned() && id.get<uint64_t>() > static_cast<uint64_t>(INT64_MAX)) {
          throw UserError(where + ": a token id is out of range");
        }
        prompt.tokens.push_back(id.get<int64_t>());
      }
      out.push_back(std::move(prompt));
    } else {
      throw UserError(where + ": needs a string \"prompt\" or an array \"tokens\"");
    }
  }
  return out;
}

void check_prompt(Prompt& prompt, const data::Tokenizer& tokenizer, int64_t context) {
  if (prompt.tokens.empty()) throw UserError(prompt.where + ": the prompt is empty");
  for (int64_t id : prompt.tokens) {
    if (id < 0 || id >= tokenizer.vocab_size()) {
      throw UserError(prompt.where + ": token " + std::to_string(id) + " is outside the tokenizer's " +
                      std::to_string(tokenizer.vocab_size()) + " ids");
    }
  }
  if (static_cast<int64_t>(prompt.tokens.size()) > context) {
    throw UserError(prompt.where + ": " + std::to_string(prompt.tokens.size()) + " tokens, but the model's context is " +
                    std::to_string(context) + " positions");
  }
  if (prompt.text.empty()) prompt.text = token_text(tokenizer, prompt.tokens);
}

}  // namespace stratum
