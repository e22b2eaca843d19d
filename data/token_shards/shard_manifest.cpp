#include "data/token_shards/shard_manifest.h"

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/read_file.h"

namespace stratum::data {
namespace {

constexpr const char* kFormat = "stratum-token-shards";
constexpr int kVersion = 1;

// A field of `object` as T, or a UserError naming the file and key.
template <class T>
T field(const nlohmann::json& object, const std::string& key, const std::string& where) {
  const auto it = object.find(key);
  if (it == object.end()) throw UserError(where + ": missing key \"" + key + "\"");
  try {
    return it->get<T>();
  } catch (const nlohmann::json::exception&) {
    throw UserError(where + ": key \"" + key + "\" has the wrong type");
  }
}

}  // namespace

std::string ShardManifest::to_json() const {
  nlohmann::ordered_json out;
  out["format"] = kFormat;
  out["version"] = kVersion;
  out["tokenizer"] = {{"kind", tokenizer}, {"sha256", tokenizer_sha256}, {"vocab_size", vocab_size},
                      {"end_of_text", end_of_text}};
  out["source"] = {{"kind", source}, {"path", source_path}, {"files", source_files}};
  out["records"] = {{"read", records_read}, {"accepted", records_accepted}, {"rejected", records_rejected}};
  out["unseen"] = unseen_description;
  out["validation_fraction"] = validation_fraction;
  out["per_label"] = per_label;
  if (!redaction_policy.empty()) {
    out["redaction"] = {{"policy", nlohmann::ordered_json::parse(redaction_policy, nullptr, false)},
                        {"findings", redaction_findings}};
  }
  out["seed"] = seed;
  for (size_t s = 0; s < splits.size(); ++s) {
    nlohmann::ordered_json split = {{"documents", splits[s].documents}, {"tokens", splits[s].tokens},
                                    {"labels", splits[s].labels}, {"offered", splits[s].offered}};
    split["shards"] = nlohmann::ordered_json::array();
    for (const ShardEntry& e : splits[s].shards) {
      split["shards"].push_back(
          {{"file", e.file}, {"tokens", e.tokens}, {"documents", e.documents}, {"bytes", e.bytes}, {"sha256", e.sha256}});
    }
    out["splits"][kSplitNames[s]] = split;
  }
  return out.dump(2) + "\n";
}

ShardManifest ShardManifest::read(const std::string& folder) {
  const std::string path = folder + "/" + kFileName;
  const std::optional<std::string> text = read_file(path);
  if (!text) throw UserError(path + ": missing (prepare the folder with stratum data prepare --out " + folder + ")");
  return from_json(*text, path);
}

ShardManifest ShardManifest::from_json(const std::string& text, const std::string& where) {
  const nlohmann::json in = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (in.is_discarded() || !in.is_object()) throw UserError(where + ": not a JSON object (malformed shards.json)");
  const auto format = in.find("format");
  if (format == in.end() || !format->is_string() || format->get<std::string>() != kFormat) {
    throw UserError(where + ": key \"format\" is not \"" + std::string(kFormat) + "\" (not a Stratum shard folder)");
  }
  if (field<int>(in, "version", where) != kVersion) {
    throw UserError(where + ": version " + std::to_string(field<int>(in, "version", where)) + ", this Stratum reads " +
                    std::to_string(kVersion) + " (prepare the shards again)");
  }
  ShardManifest m;
  const auto tokenizer = field<nlohmann::json>(in, "tokenizer", where);
  m.tokenizer = field<std::string>(tokenizer, "kind", where + " tokenizer");
  m.tokenizer_sha256 = field<std::string>(tokenizer, "sha256", where + " tokenizer");
  m.vocab_size = field<uint64_t>(tokenizer, "vocab_size", where + " tokenizer");
  m.end_of_text = field<int64_t>(tokenizer, "end_of_text", where + " tokenizer");
  const auto source = field<nlohmann::json>(in, "source", where);
  m.source = field<std::string>(source, "kind", where + " source");
  m.source_path = field<std::string>(source, "path", where + " source");
  m.source_files = field<std::vector<std::map<std::string, std::string>>>(source, "files", where + " source");
  const auto records = field<nlohmann::json>(in, "records", where);
  m.records_read = field<int64_t>(records, "read", where + " records");
  m.records_accepted = field<int64_t>(records, "accepted", where + " records");
  m.records_rejected = field<int64_t>(records, "rejected", where + " records");
  m.unseen_description = field<std::string>(in, "unseen", where);
  m.validation_fraction = field<double>(in, "validation_fraction", where);
  m.per_label = field<int64_t>(in, "per_label", where);
  if (in.contains("redaction")) {
    const auto redaction = field<nlohmann::json>(in, "redaction", where);
    m.redaction_policy = field<nlohmann::json>(redaction, "policy", where + " redaction").dump();
    m.redaction_findings = field<std::map<std::string, int64_t>>(redaction, "findings", where + " redaction");
  }
  m.seed = field<uint64_t>(in, "seed", where);
  const auto splits = field<nlohmann::json>(in, "splits", where);
  for (size_t s = 0; s < m.splits.size(); ++s) {
    const std::string at = where + " splits." + kSplitNames[s];
    const auto split = field<nlohmann::json>(splits, kSplitNames[s], where + " splits");
    ShardSplit& out = m.splits[s];
    out.documents = field<uint64_t>(split, "documents", at);
    out.tokens = field<uint64_t>(split, "tokens", at);
    out.labels = field<std::map<std::string, int64_t>>(split, "labels", at);
    out.offered = field<std::map<std::string, int64_t>>(split, "offered", at);
    for (const auto& e : field<std::vector<nlohmann::json>>(split, "shards", at)) {
      ShardEntry entry{field<std::string>(e, "file", at), field<uint64_t>(e, "tokens", at),
                       field<uint64_t>(e, "documents", at), field<uint64_t>(e, "bytes", at),
                       field<std::string>(e, "sha256", at)};
      // Shard files live in the folder itself: a name may not climb out of it.
      if (entry.file.empty() || entry.file.find('/') != std::string::npos || entry.file[0] == '.') {
        throw UserError(at + ": shard file name \"" + entry.file + "\" is not a plain file name");
      }
      out.shards.push_back(std::move(entry));
    }
  }
  if (m.vocab_size < 2 || m.end_of_text < 0 || static_cast<uint64_t>(m.end_of_text) >= m.vocab_size) {
    throw UserError(where + ": tokenizer end_of_text " + std::to_string(m.end_of_text) + " is outside its vocabulary of " +
                    std::to_string(m.vocab_size));
  }
  return m;
}

}  // namespace stratum::data
