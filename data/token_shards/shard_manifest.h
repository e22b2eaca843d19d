#pragma once
// shards.json: what `stratum data prepare` wrote into a shard folder, and what training checks
// the shards against (each file's sha256, the tokenizer, the counts).

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace stratum::data {

/// One shard file of a split.
struct ShardEntry {
  std::string file;  ///< name inside the shard folder
  uint64_t tokens = 0, documents = 0, bytes = 0;
  std::string sha256;
};

/// One split's shards and what they hold.
struct ShardSplit {
  std::vector<ShardEntry> shards;
  uint64_t documents = 0, tokens = 0;
  std::map<std::string, int64_t> labels;  ///< documents per label (labeled sources)
  /// With a per-label quota: documents each label offered before sampling (else empty).
  std::map<std::string, int64_t> offered;
};

/// The whole shard folder.
struct ShardManifest {
  static constexpr const char* kFileName = "shards.json";
  static constexpr const char* kSplitNames[3] = {"seen", "validation", "unseen"};

  std::string tokenizer = "bytes";  ///< "bytes" or "byte-bpe"
  std::string tokenizer_sha256;     ///< of the tokenizer file (empty for bytes)
  uint64_t vocab_size = 257;
  int64_t end_of_text = 256;        ///< ends every document
  std::string source, source_path;  ///< what was read
  std::vector<std::map<std::string, std::string>> source_files;  ///< path, sha256, bytes, records
  std::string unseen_description;
  double validation_fraction = 0;
  uint64_t seed = 0;
  int64_t records_read = 0, records_accepted = 0, records_rejected = 0;
  /// data.redact while preparing: the policy (JSON) and values redacted per detector (empty: none).
  std::string redaction_policy;
  std::map<std::string, int64_t> redaction_findings;
  int64_t per_label = 0;  ///< the seen split's quota of documents per label (0: all kept)
  std::array<ShardSplit, 3> splits;  ///< in kSplitNames order

  std::string to_json() const;
  /// Parses `text` read from `where`; a UserError naming it and the key on a malformed file.
  static ShardManifest from_json(const std::string& text, const std::string& where);
  /// Reads `folder`/shards.json (a UserError naming it when it is missing or malformed).
  static ShardManifest read(const std::string& folder);
};

}  // namespace stratum::data
