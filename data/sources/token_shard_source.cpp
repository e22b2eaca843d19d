#include "data/sources/token_shard_source.h"

#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/sha256.h"
#include "data/manifest.h"
#include "data/token_shards/shard_manifest.h"
#include "data/token_shards/token_windows.h"
#include "data/tokenizer/tokenizer.h"

namespace stratum::data {
namespace {

ShardManifest read_shard_manifest(const std::string& dir) {
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) {
    throw UserError("data.path: " + dir + ": no such folder (token_shards reads a folder written by stratum data prepare)");
  }
  return ShardManifest::read(dir);
}

// The tokenizer the config names must be the one the shards were made with.
void check_tokenizer(const ShardManifest& m, const DataOptions& options, const std::string& dir) {
  const std::string configured = load_tokenizer(options.tokenizer.path)->fingerprint();
  if (configured != m.tokenizer_sha256) {
    throw UserError("data.tokenizer.path: " + (options.tokenizer.path.empty() ? std::string("empty (bytes)") : options.tokenizer.path) +
                    " is not the tokenizer " + dir + " was prepared with (" + m.tokenizer +
                    (m.tokenizer_sha256.empty() ? "" : ", sha256 " + m.tokenizer_sha256.substr(0, 12) + "…") +
                    "); set data.tokenizer.path to that one");
  }
}

// Opens one split's shards, each checked against its shards.json entry.
std::vector<std::shared_ptr<const TokenShard>> open_split(const ShardManifest& m, const ShardSplit& split,
                                                          const std::string& dir, std::vector<SourceFile>& files,
                                                          const std::string& role) {
  std::vector<std::shared_ptr<const TokenShard>> shards;
  for (const ShardEntry& e : split.shards) {
    const std::string path = dir + "/" + e.file;
    auto shard = std::make_shared<const TokenShard>(path);
    if (shard->vocab_size() != m.vocab_size || shard->tokens() != e.tokens || shard->documents() != e.documents) {
      throw UserError(path + ": header disagrees with shards.json (vocabulary, tokens or documents): the folder was "
                             "changed after stratum data prepare wrote it");
    }
    const std::string sha256 = sha256_file(path);
    if (sha256 != e.sha256) throw UserError(path + ": sha256 differs from shards.json (corrupt or replaced)");
    SourceFile file;
    file.role = role;
    file.path = path;
    file.records_read = file.records_accepted = static_cast<int64_t>(e.documents);
    file.bytes_read = e.bytes;
    file.sha256 = sha256;
    file.read_to_end = true;
    files.push_back(file);
    shards.push_back(std::move(shard));
  }
  return shards;
}

}  // namespace

SplitData read_token_shard_source(const DataOptions& options, const DataContext& context) {
  if (options.path.empty()) throw UserError("data.path: token_shards needs the folder stratum data prepare wrote");
  const std::string& dir = options.path;
  const ShardManifest m = read_shard_manifest(dir);
  check_tokenizer(m, options, dir);
  const int64_t length = options.text.max_length;

  SplitData data;
  data.spec.kind = InputKind::tokens;
  data.spec.input_shape = {length};
  data.spec.vocab_size = static_cast<int64_t>(m.vocab_size);
  data.spec.pad_token = -1;  // windows are all tokens; unscored targets are -100
  TensorDataset* splits[3] = {&data.seen, &data.validation, &data.unseen};
  nlohmann::ordered_json windows_json;
  for (size_t s = 0; s < 3; ++s) {
    const std::string name = ShardManifest::kSplitNames[s];
    auto shards = open_split(m, m.splits[s], dir, data.files, "token-shards/" + name);
    // A replica of a sharded stream holds its own share of every split (as other sources'
    // replicas hold the records they read), and evaluations add the replicas' shares up.
    auto windows = std::make_shared<const TokenWindows>(std::move(shards), length, options.pack, context.rank,
                                                        context.world_size);
    windows_json[name] = {{"documents", m.splits[s].documents},
                          {"tokens", windows->stream_tokens()},
                          {"windows", windows->windows()},
                          {"unused_tail_tokens", windows->unused_tokens()}};
    data.label_counts[name] = {};
    splits[s]->store = std::move(windows);
  }
  if (data.seen.size() == 0) {
    throw UserError("data.text.max_length: " + dir + "'s seen shards hold " + std::to_string(m.splits[0].tokens) +
                    " tokens, fewer than one window of " + std::to_string(length + 1) + " (for this rank)");
  }
  data.unseen_description = m.unseen_description + " (prepared in " + dir + ")";
  data.records_read = data.records_accepted = static_cast<int64_t>(m.splits[0].documents + m.splits[1].documents + m.splits[2].documents);
  // The pipeline has no state of its own beyond which folder, windows and replica it reads.
  data.pipeline_state = "token_shards " + sha256_hex(m.to_json()) + " length " + std::to_string(length) + " pack " +
                        choice_name(options.pack) + " rank " + std::to_string(context.rank) + "/" +
                        std::to_string(context.world_size);
  nlohmann::ordered_json manifest = nlohmann::ordered_json::parse(manifest_json(data, options, context.seed));
  manifest.erase("reservoir");
  manifest.erase("label_cooccurrence");
  manifest["token_shards"] = {{"folder", dir},
                              {"tokenizer", m.tokenizer},
                              {"vocab_size", m.vocab_size},
                              {"end_of_text", m.end_of_text},
                              {"pack", choice_name(options.pack)},
                              {"window_tokens", length},
                              // Windows are cut from the token stream: no position is ever padding.
                              {"padding_share", 0.0},
                              {"splits", windows_json},
                              {"prepared_from", {{"source", m.source}, {"path", m.source_path},
                                                 {"records_read", m.records_read}, {"records_accepted", m.records_accepted},
                                                 {"records_rejected", m.records_rejected}}}};
  data.manifest = manifest.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  return data;
}

}  // namespace stratum::data
