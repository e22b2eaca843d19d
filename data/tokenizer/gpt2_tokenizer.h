#pragma once
// GPT-2's own tokenizer, from a Hugging Face model folder's vocab.json and merges.txt, so that
// Hugging Face GPT-2 weights see the token ids they were trained on (checked token for token
// against transformers' GPT2Tokenizer in the parity tests).

#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "data/tokenizer/tokenizer.h"

namespace stratum::data {

/// Byte-level BPE with GPT-2's pre-tokenizer pattern, byte-to-unicode alphabet and merge ranks.
class Gpt2Tokenizer : public Tokenizer {
 public:
  /// Reads `folder`/vocab.json and `folder`/merges.txt; a UserError naming the file and line.
  explicit Gpt2Tokenizer(const std::string& folder);

  std::vector<int32_t> encode(const std::string& text) const override;
  std::string decode(const std::vector<int32_t>& ids) const override;
  int64_t vocab_size() const override { return static_cast<int64_t>(tokens_.size()); }
  /// GPT-2 has no padding token: <|endoftext|> serves, as in Hugging Face's examples.
  int32_t pad_id() const override { return end_of_text_; }
  int32_t end_of_text_id() const override { return end_of_text_; }
  std::string kind() const override { return "gpt2"; }
  std::string fingerprint() const override { return fingerprint_; }

 private:
  /// The ids of one pre-token (its bytes already in GPT-2's alphabet), merges applied by rank.
  std::vector<int32_t> bpe(const std::string& piece) const;

  std::unordered_map<std::string, int32_t> ids_;  ///< token (GPT-2 alphabet, UTF-8) -> id
  std::vector<std::string> tokens_;               ///< id -> the bytes it stands for
  std::unordered_map<std::string, int32_t> ranks_;  ///< "left right" -> merge rank
  int32_t end_of_text_ = -1;
  std::string vocab_path_;  ///< for errors found while encoding
  std::string fingerprint_;
  mutable std::mutex cache_mutex_;
  mutable std::unordered_map<std::string, std::vector<int32_t>> cache_;  ///< pre-token -> ids
};

/// GPT-2's pre-tokenization: 's 't 're 've 'm 'll 'd, an optional space and a run of letters,
/// of numbers or of other symbols, and whitespace (a run before a word leaves its last space
/// to the word). The pieces concatenate to `text`; invalid UTF-8 bytes count as symbols.
std::vector<std::string> gpt2_pretokenize(const std::string& text);

}  // namespace stratum::data
