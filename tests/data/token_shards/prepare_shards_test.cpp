// `stratum data prepare` and the token_shards source: documents go whole to one split, the
// bytes written do not depend on the number of workers, rejects are counted, and a folder
// that was changed afterwards (or a tokenizer that is not the shards') is refused by name.

#include "data/token_shards/prepare_shards.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <map>
#include <set>

#include "core/sha256.h"
#include "data/sources/token_shard_source.h"
#include "data/token_shards/token_shard.h"
#include "data/tokenizer/byte_bpe.h"
#include "support/temp_dir.h"
#include "support/user_error.h"

namespace stratum::data {
namespace {

using ::testing::HasSubstr;
using testing::TempDir;
using testing::user_error;

// A JSONL corpus of `n` documents with labels a / b / c, two malformed lines and a blank one.
std::string corpus(const TempDir& dir, int n) {
  std::string text;
  for (int i = 0; i < n; ++i) {
    nlohmann::json line = {{"text", "document " + std::to_string(i) + std::string(static_cast<size_t>(i % 13), 'x') + " ünïcode"},
                           {"label", std::string(1, static_cast<char>('a' + i % 3))}};
    text += line.dump() + "\n";
    if (i == 7) text += "{not json\n\n";
    if (i == 11) text += "{\"label\": \"a\"}\n";
  }
  return dir.write("corpus.jsonl", text);
}

DataOptions jsonl_options(const std::string& path) {
  DataOptions options;
  options.source = "text";
  options.path = path;
  options.text.format = TextFormat::jsonl;
  options.validation_fraction = 0.2;
  options.max_reject_fraction = 0.5;
  options.unseen.by = UnseenBy::label;
  options.unseen.labels = {"c"};
  return options;
}

ShardManifest prepare(const DataOptions& options, const std::string& out, int workers, uint64_t shard_tokens = 1000) {
  PrepareOptions p;
  p.out_dir = out;
  p.workers = workers;
  p.shard_tokens = shard_tokens;
  p.seed = 5;
  return prepare_token_shards(options, p);
}

// The documents of one split, decoded (each shard's tokens cut at the end-of-text id).
std::vector<std::string> documents_of(const ShardManifest& m, size_t split, const std::string& dir) {
  std::vector<std::string> out;
  for (const ShardEntry& e : m.splits[split].shards) {
    const TokenShard shard(dir + "/" + e.file);
    std::vector<int64_t> tokens(shard.tokens());
    shard.copy_tokens(0, shard.tokens(), tokens.data());
    std::string text;
    for (const int64_t t : tokens) {
      if (t == m.end_of_text) {
        out.push_back(text);
        text.clear();
      } else {
        text += static_cast<char>(t);
      }
    }
  }
  return out;
}

TEST(PrepareShards, EveryDocumentLandsWholeInOneSplitAndRejectsAreCounted) {
  TempDir dir;
  const DataOptions options = jsonl_options(corpus(dir, 300));
  const std::string out = dir.path() + "/shards";
  const ShardManifest m = prepare(options, out, 1);
  EXPECT_EQ(m.records_read, 302);
  EXPECT_EQ(m.records_accepted, 300);
  EXPECT_EQ(m.records_rejected, 2);
  std::ifstream rejects(out + "/rejects.jsonl");
  int lines = 0;
  for (std::string line; std::getline(rejects, line);) ++lines;
  EXPECT_EQ(lines, 2);
  EXPECT_EQ(m.tokenizer, "bytes");
  EXPECT_EQ(m.end_of_text, 256);
  // Unseen holds exactly the documents labelled c; validation about 20% of the rest.
  EXPECT_EQ(m.splits[2].documents, 100u);
  EXPECT_EQ(m.splits[2].labels.at("c"), 100);
  EXPECT_EQ(m.splits[0].labels.count("c"), 0u);
  EXPECT_NEAR(static_cast<double>(m.splits[1].documents) / 200.0, 0.2, 0.08);
  EXPECT_EQ(m.splits[0].documents + m.splits[1].documents, 200u);
  EXPECT_GT(m.splits[0].shards.size(), 2u);  // 1000-token shards
  std::set<std::string> all;
  for (size_t s = 0; s < 3; ++s) {
    uint64_t tokens = 0;
    for (const ShardEntry& e : m.splits[s].shards) {
      tokens += e.tokens;
      EXPECT_EQ(sha256_file(out + "/" + e.file), e.sha256);
    }
    EXPECT_EQ(tokens, m.splits[s].tokens);
    for (const std::string& d : documents_of(m, s, out)) EXPECT_TRUE(all.insert(d).second) << d;
  }
  EXPECT_EQ(all.size(), 300u);
  EXPECT_EQ(all.count("document 14x ünïcode"), 1u);
}

// Tokenizing threads change how fast, never what: the same bytes for 1 and 4 workers, with
// byte tokens and with a BPE tokenizer.
TEST(PrepareShards, TheBytesWrittenDoNotDependOnTheNumberOfWorkers) {
  TempDir dir;
  DataOptions options = jsonl_options(corpus(dir, 5000));
  for (const bool bpe : {false, true}) {
    if (bpe) {
      std::vector<std::string> texts;
      for (int i = 0; i < 200; ++i) texts.push_back("document " + std::to_string(i) + " ünïcode");
      options.tokenizer.path = dir.write("bpe.json", BytePairTokenizer::train(texts, 300).to_json());
    }
    const ShardManifest one = prepare(options, dir.path() + "/one", 1, 20000);
    const ShardManifest four = prepare(options, dir.path() + "/four", 4, 20000);
    EXPECT_EQ(one.to_json(), four.to_json());  // every shard's sha256 included
    EXPECT_EQ(one.tokenizer, bpe ? "byte-bpe" : "bytes");
    EXPECT_GT(one.splits[0].shards.size(), 1u);
  }
}

TEST(PrepareShards, FortunesAndPlainTextHoldOutBySourceAndTime) {
  TempDir dir;
  std::filesystem::create_directories(dir.path() + "/fortunes");
  dir.write("fortunes/wisdom", "Be kind.\n%\nKnow thyself.\n%\nLess is more.\n");
  dir.write("fortunes/jokes", "A pun.\n%\nAnother\npun.\n");
  DataOptions options;
  options.source = "fortunes";
  options.path = dir.path() + "/fortunes";
  options.validation_fraction = 0;
  options.unseen.by = UnseenBy::source;
  options.unseen.sources = {"jokes"};
  const ShardManifest m = prepare(options, dir.path() + "/f", 1);
  EXPECT_EQ(documents_of(m, 2, dir.path() + "/f"), (std::vector<std::string>{"A pun.", "Another\npun."}));
  EXPECT_EQ(documents_of(m, 0, dir.path() + "/f"), (std::vector<std::string>{"Be kind.", "Know thyself.", "Less is more."}));
  options.unseen.sources = {"joke"};
  EXPECT_EQ(user_error([&] { prepare(options, dir.path() + "/g", 1); }),
            "data.unseen.sources: no fortune file \"joke\" in " + options.path + " (did you mean jokes?)");

  options = DataOptions{};
  options.source = "text";
  options.text.format = TextFormat::plain;
  options.path = dir.write("plain.txt", "first line\nsecond line\n\nthird line\nfourth line\n");
  options.validation_fraction = 0;
  options.unseen.by = UnseenBy::time;
  options.unseen.after = 1.5;  // arrival order 0, 1, 2, 3: the last two are unseen
  const ShardManifest p = prepare(options, dir.path() + "/p", 1);
  EXPECT_EQ(documents_of(p, 0, dir.path() + "/p"), (std::vector<std::string>{"first line", "second line"}));
  EXPECT_EQ(documents_of(p, 2, dir.path() + "/p"), (std::vector<std::string>{"third line", "fourth line"}));
}

// --per-label: the seen split holds at most N documents of each label, each a uniform sample
// of its label's documents: over 300 seeds every document is kept about N / (its label's
// count) of the time (keeping the first N, or favouring late ones, fails the bound), and
// the sample is written in the order the documents arrived.
TEST(PrepareShards, PerLabelQuotasKeepAUniformSampleOfEachLabel) {
  TempDir dir;
  DataOptions options = jsonl_options(corpus(dir, 150));  // labels a, b, c: 50 each; c unseen
  options.validation_fraction = 0;
  std::map<std::string, int> kept;
  const int seeds = 300;
  for (int seed = 0; seed < seeds; ++seed) {
    PrepareOptions p;
    p.out_dir = dir.path() + "/q";
    p.seed = static_cast<uint64_t>(seed);
    p.per_label = 10;
    const ShardManifest m = prepare_token_shards(options, p);
    ASSERT_EQ(m.splits[0].labels.at("a"), 10);
    ASSERT_EQ(m.splits[0].labels.at("b"), 10);
    ASSERT_EQ(m.splits[0].offered.at("a"), 50);
    ASSERT_EQ(m.splits[2].documents, 50u);  // held-out documents are not sampled
    const std::vector<std::string> documents = documents_of(m, 0, p.out_dir);
    int previous = -1;
    for (const std::string& d : documents) {
      ++kept[d];
      const int number = std::stoi(d.substr(9));  // "document N..."
      EXPECT_GT(number, previous);                 // arrival order
      previous = number;
    }
  }
  ASSERT_EQ(kept.size(), 100u);  // every a and b document was kept some of the time
  // Each is kept with p = 10 / 50 = 0.2: 60 of 300 expected, sd = sqrt(300 · 0.2 · 0.8) ≈ 6.9.
  for (const auto& [document, times] : kept) {
    EXPECT_NEAR(times, 60, 30) << document;  // > 4 sd: all 100 pass by chance with p > 0.99
  }
}

TEST(PrepareShards, TheOutputFolderIsReplacedOnlyWhenItHoldsShards) {
  TempDir dir;
  const DataOptions options = jsonl_options(corpus(dir, 50));
  const std::string out = dir.path() + "/shards";
  prepare(options, out, 1, 100);
  const ShardManifest again = prepare(options, out, 1, 1000000);  // fewer, larger shards
  size_t files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(out)) files += entry.path().extension() == ".bin";
  EXPECT_EQ(files, again.splits[0].shards.size() + again.splits[1].shards.size() + again.splits[2].shards.size());
  dir.write("other/notes.txt", "mine");
  EXPECT_EQ(user_error([&] { prepare(options, dir.path() + "/other", 1); }),
            "--out " + dir.path() + "/other: the folder holds files but no shards.json; prepare into a new or empty folder");
  DataOptions idx = options;
  idx.source = "idx";
  EXPECT_THAT(user_error([&] { prepare(idx, dir.path() + "/x", 1); }), HasSubstr("reads a text or fortunes source"));
}

TEST(TokenShardSource, ServesWindowsOfEverySplitAndRefusesAChangedFolder) {
  TempDir dir;
  DataOptions options = jsonl_options(corpus(dir, 300));
  const std::string out = dir.path() + "/shards";
  const ShardManifest m = prepare(options, out, 2);
  DataOptions train;
  train.source = "token_shards";
  train.path = out;
  train.text.max_length = 32;
  SplitData data = read_token_shard_source(train, DataContext{});
  EXPECT_EQ(data.spec.kind, InputKind::tokens);
  EXPECT_EQ(data.spec.vocab_size, 257);
  EXPECT_EQ(data.spec.pad_token, -1);
  EXPECT_EQ(data.seen.size(), static_cast<int64_t>((m.splits[0].tokens - 1) / 32));
  EXPECT_EQ(data.unseen.size(), static_cast<int64_t>((m.splits[2].tokens - 1) / 32));
  const Batch b = data.validation.gather(torch::tensor({0, 1}));
  EXPECT_EQ(b.inputs.sizes(), (std::vector<int64_t>{2, 32}));
  const auto manifest = nlohmann::json::parse(data.manifest);
  EXPECT_EQ(manifest["token_shards"]["padding_share"], 0.0);
  EXPECT_EQ(manifest["token_shards"]["splits"]["seen"]["windows"], data.seen.size());
  EXPECT_EQ(manifest["files"].size(), m.splits[0].shards.size() + m.splits[1].shards.size() + m.splits[2].shards.size());

  // A tokenizer other than the shards' is refused by key.
  train.tokenizer.path = dir.write("bpe.json", BytePairTokenizer::train({"some text some text some text"}, 260).to_json());
  EXPECT_THAT(user_error([&] { read_token_shard_source(train, DataContext{}); }),
              HasSubstr("data.tokenizer.path: " + train.tokenizer.path + " is not the tokenizer " + out +
                        " was prepared with (bytes)"));
  train.tokenizer.path.clear();
  // A shard whose bytes changed (same size, valid header) fails its sha256.
  const std::string shard = out + "/" + m.splits[0].shards[0].file;
  {
    std::fstream f(shard, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(70);
    f.put('A');
  }
  EXPECT_EQ(user_error([&] { read_token_shard_source(train, DataContext{}); }),
            shard + ": sha256 differs from shards.json (corrupt or replaced)");
  std::filesystem::remove(shard);
  EXPECT_THAT(user_error([&] { read_token_shard_source(train, DataContext{}); }), HasSubstr(shard + ": cannot open token shard"));
  std::filesystem::remove(out + "/shards.json");
  EXPECT_THAT(user_error([&] { read_token_shard_source(train, DataContext{}); }), HasSubstr(out + "/shards.json: missing"));
  dir.write("shards/shards.json", "{\"format\": \"stratum-token-shards\", \"version\": 1}");
  EXPECT_EQ(user_error([&] { read_token_shard_source(train, DataContext{}); }), out + "/shards.json: missing key \"tokenizer\"");
}

}  // namespace
}  // namespace stratum::data
