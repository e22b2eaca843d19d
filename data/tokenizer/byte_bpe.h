#pragma once
// A byte-level byte-pair-encoding tokenizer (the GPT-2 family's scheme): ids 0-255 are the
// bytes, each learned merge adds one id, and a padding id comes last. Any byte string
// encodes, and decode(encode(x)) == x exactly.

#include <cstdint>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "data/tokenizer/tokenizer.h"

namespace stratum::data {

/// Trains, applies and stores a byte-level BPE vocabulary (no merges: plain bytes).
class BytePairTokenizer : public Tokenizer {
 public:
  /// Byte-level only (no merges): 256 byte ids and the padding id 256.
  BytePairTokenizer();

  /// Learns merges from `texts` until the vocabulary (bytes, merges and padding) holds
  /// `vocab_size` ids or no pair occurs `min_frequency` times. Deterministic: ties go to the
  /// pair with the smallest ids.
  static BytePairTokenizer train(const std::vector<std::string>& texts, int64_t vocab_size, int64_t min_frequency = 2);

  /// Token ids of `text`, merges applied in the order they were learned.
  std::vector<int32_t> encode(const std::string& text) const override;

  /// The bytes behind `ids` (the padding id decodes to nothing).
  std::string decode(const std::vector<int32_t>& ids) const override;

  int64_t vocab_size() const override { return 256 + static_cast<int64_t>(merges_.size()) + 1; }
  int32_t pad_id() const override { return static_cast<int32_t>(256 + merges_.size()); }
  /// The padding id: no text encodes to it, so it can end documents.
  int32_t end_of_text_id() const override { return pad_id(); }
  std::string kind() const override { return merges_.empty() ? "bytes" : "byte-bpe"; }
  /// sha256 of to_json() ("" for bytes).
  std::string fingerprint() const override;
  const std::vector<std::pair<int32_t, int32_t>>& merges() const { return merges_; }

  /// JSON: {"type": "byte-bpe", "version": 1, "merges": [[a, b], ...], "pad_id": N, "tokens": [...]}
  std::string to_json() const;

  /// Parses to_json()'s output; a malformed file is a UserError naming `source`.
  static BytePairTokenizer from_json(const std::string& json, const std::string& source);

  /// Reads a tokenizer file (UserError naming the path when missing or malformed).
  static BytePairTokenizer load(const std::string& path);

 private:
  explicit BytePairTokenizer(std::vector<std::pair<int32_t, int32_t>> merges);
  void apply_merges(std::vector<int32_t>& symbols) const;

  std::vector<std::pair<int32_t, int32_t>> merges_;
  std::unordered_map<uint64_t, int32_t> rank_;  ///< pair key -> merge index
  std::vector<std::string> bytes_;              ///< id -> the bytes it stands for
};

/// Splits text into the pieces BPE merges never cross: a run of letters (bytes ≥ 0x80
/// count as letters, so UTF-8 stays whole), of digits, or of other symbols, each with at
/// most one leading space; and runs of whitespace. The pieces concatenate to `text`.
std::vector<std::string> pretokenize(const std::string& text);

}  // namespace stratum::data
