#pragma once
// Unicode character classes of GPT-2's pre-tokenizer pattern (\p{L}, \p{N}, \s), from a table
// generated with the same `regex` module transformers uses (scripts/generate_unicode_classes.py).

namespace stratum::data {

bool is_letter(char32_t c);  ///< \p{L}
bool is_number(char32_t c);  ///< \p{N}
bool is_space(char32_t c);   ///< \s

}  // namespace stratum::data
