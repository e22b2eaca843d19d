#pragma once
// The prompts `stratum generate` continues: given on the command line or read from a JSONL file,
// tokenized with the model's tokenizer and checked against its vocabulary and context.

#include <cstdint>
#include <string>
#include <vector>

namespace stratum::data {
class Tokenizer;
}

namespace stratum {

/// One prompt: where it came from, its text and its token ids.
struct Prompt {
  std::string where;  ///< "--prompt 2", "prompts.jsonl:7": how errors name it
  std::string text;
  std::vector<int64_t> tokens;
};

/// `text`'s token ids under `tokenizer`, and the text of `tokens` (the padding id gives none).
std::vector<int64_t> token_ids(const data::Tokenizer& tokenizer, const std::string& text);
std::string token_text(const data::Tokenizer& tokenizer, const std::vector<int64_t>& tokens);

/// `path`'s prompts: one JSON object per line, {"prompt": "text"} or {"tokens": [ids]}; blank
/// lines are skipped. A malformed line is a UserError naming `path:line`.
std::vector<Prompt> read_prompt_file(const std::string& path, const data::Tokenizer& tokenizer);

/// `text` given as `where` ("--prompt 1"), tokenized.
Prompt text_prompt(const std::string& where, const std::string& text, const data::Tokenizer& tokenizer);

/// Checks that `prompt` is not empty, its ids are in the tokenizer's vocabulary and it fits
/// `context` positions (UserErrors naming it), and fills its text from its tokens when missing.
void check_prompt(Prompt& prompt, const data::Tokenizer& tokenizer, int64_t context);

}  // namespace stratum
