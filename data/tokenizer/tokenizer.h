#pragma once
// What turns text into token ids and back, whichever scheme: bytes, Stratum's byte-level BPE,
// or GPT-2's own vocab.json + merges.txt.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace stratum::data {

/// Encodes text to ids and decodes ids to bytes.
class Tokenizer {
 public:
  virtual ~Tokenizer() = default;

  virtual std::vector<int32_t> encode(const std::string& text) const = 0;
  /// The bytes behind `ids` (padding decodes to nothing).
  virtual std::string decode(const std::vector<int32_t>& ids) const = 0;

  virtual int64_t vocab_size() const = 0;
  /// Fills short sequences; the loss skips it.
  virtual int32_t pad_id() const = 0;
  /// Ends every document of a token shard (no text encodes to it).
  virtual int32_t end_of_text_id() const = 0;
  /// "bytes", "byte-bpe" or "gpt2", for manifests and messages.
  virtual std::string kind() const = 0;
  /// sha256 of what defines the tokenizer (empty for bytes): token shards record it, and
  /// training refuses shards made with another.
  virtual std::string fingerprint() const = 0;
};

/// The tokenizer `data.tokenizer.path` names: a folder holding GPT-2's vocab.json and
/// merges.txt (a Hugging Face GPT-2 model folder), a tokenizer JSON written by
/// `stratum data tokenizer`, or, for an empty path, bytes. A UserError naming the path when it
/// is none of them.
std::shared_ptr<const Tokenizer> load_tokenizer(const std::string& path);

}  // namespace stratum::data
