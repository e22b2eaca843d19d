// Language-model inputs: token shards, shards.json and GPT-2 tokenizer folders. Mutated
// headers, bodies, indexes, manifests, vocabularies and merges are read in full (and encode
// text) or are refused with a one-line UserError naming the file; never a crash or an
// internal error.

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>
#include <fstream>

#include "data/sources/token_shard_source.h"
#include "data/token_shards/prepare_shards.h"
#include "data/token_shards/token_shard.h"
#include "data/token_shards/token_windows.h"
#include "data/tokenizer/gpt2_tokenizer.h"
#include "fuzz/fuzz_tally.h"
#include "fuzz/mutator.h"
#include "support/gpt2_vocabulary.h"
#include "support/temp_dir.h"

namespace stratum::testing {
namespace {

std::string bytes_of(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// A shard folder of a few hundred short documents.
std::string prepared(const TempDir& dir) {
  std::string text;
  for (int i = 0; i < 300; ++i) text += "document number " + std::to_string(i * 37) + "\n";
  data::DataOptions options;
  options.source = "text";
  options.text.format = data::TextFormat::plain;
  options.path = dir.write("corpus.txt", text);
  options.validation_fraction = 0.2;
  options.unseen.by = data::UnseenBy::none;
  data::PrepareOptions prepare;
  prepare.out_dir = dir.path() + "/shards";
  prepare.shard_tokens = 2000;
  data::prepare_token_shards(options, prepare);
  return prepare.out_dir;
}

TEST(TokenShardFuzz, MutatedShardsReadWhollyOrFailNamingTheFile) {
  TempDir dir;
  const std::string folder = prepared(dir);
  const std::string seed = bytes_of(folder + "/seen-00000.bin");
  const std::vector<std::string> tokens = {"STRTOKSH", std::string("\x01\0\0\0", 4), std::string("\x02\0\0\0", 4),
                                           std::string(8, '\xff'), std::string(8, '\0'), std::string("\x01\x01", 2)};
  Mutator mutator(29, tokens);
  FuzzTally tally("token shards");
  const std::string path = dir.path() + "/mutant.bin";
  for (int i = 0; i < 600; ++i) {
    // Mostly the header and the index at the end; sometimes anywhere.
    std::string bytes;
    switch (mutator.below(3)) {
      case 0: bytes = mutator.mutate(seed.substr(0, 64)) + seed.substr(64); break;
      case 1: bytes = seed.substr(0, seed.size() - 64) + mutator.mutate(seed.substr(seed.size() - 64)); break;
      default: bytes = mutator.mutate(seed); break;
    }
    std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
    tally.run(i, [&] {
      const auto shard = std::make_shared<const data::TokenShard>(path);
      for (const data::Pack pack : {data::Pack::contiguous, data::Pack::documents}) {
        const data::TokenWindows windows({shard}, 16, pack);
        if (windows.size() > 0) windows.gather(torch::arange(windows.size(), torch::kInt64));
      }
    });
  }
  EXPECT_GT(tally.refused(), 300);
}

TEST(TokenShardFuzz, MutatedShardManifestsAreRefusedByKeyOrRead) {
  TempDir dir;
  const std::string folder = prepared(dir);
  const std::string seed = bytes_of(folder + "/shards.json");
  const std::vector<std::string> tokens = {"\"tokens\"", "\"vocab_size\"", "\"end_of_text\"", "\"../x\"", "null", "[]",
                                           "{}", "\"seen-00000.bin\"", "-1", "1e400"};
  Mutator mutator(31, tokens);
  FuzzTally tally("shards.json");
  for (int i = 0; i < 400; ++i) {
    std::ofstream(folder + "/shards.json", std::ios::trunc) << mutator.mutate(seed);
    tally.run(i, [&] {
      data::DataOptions options;
      options.source = "token_shards";
      options.path = folder;
      options.text.max_length = 16;
      const data::SplitData d = data::read_token_shard_source(options, data::DataContext{});
      if (d.seen.size() > 0) d.seen.gather(torch::arange(d.seen.size(), torch::kInt64));
    });
  }
  EXPECT_GT(tally.refused(), 200);
}

TEST(TokenShardFuzz, MutatedGpt2VocabulariesAndMergesLoadAndEncodeOrNameTheFile) {
  TempDir dir;
  const std::string folder = write_vocabulary(dir, "gpt2", "#version: 0.2\nl o\nlo w\nĠ lo\nh e\nĠ t\n");
  const std::string vocab = testing::read_file(folder + "/vocab.json"), merges = testing::read_file(folder + "/merges.txt");
  const std::vector<std::string> tokens = {"\"<|endoftext|>\"", ": -1", ": 99999999", "\"Ġ\"", " ", "\n", "#version",
                                           "{}", "[]", "\\u0000"};
  Mutator mutator(37, tokens);
  FuzzTally tally("GPT-2 tokenizer folders");
  for (int i = 0; i < 400; ++i) {
    const bool mutate_vocab = i % 2 == 0;
    dir.write("gpt2/vocab.json", mutate_vocab ? mutator.mutate(vocab) : vocab);
    dir.write("gpt2/merges.txt", mutate_vocab ? merges : mutator.mutate(merges));
    tally.run(i, [&] {
      const data::Gpt2Tokenizer tokenizer(folder);
      tokenizer.decode(tokenizer.encode("hello lowly world, it's the test\n\t ünïcode 123"));
    });
  }
  EXPECT_GT(tally.refused(), 100);
}

}  // namespace
}  // namespace stratum::testing
