// GPT-2's own tokenizer (vocab.json + merges.txt): its pre-tokenizer splits as GPT-2's pattern
// does, any bytes round-trip, bad files are one-line errors naming file and line, and the ids
// equal transformers' GPT2Tokenizer token for token (the parity case needs the project venv).

#include "data/tokenizer/gpt2_tokenizer.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>

#include "support/gpt2_vocabulary.h"
#include "support/temp_dir.h"
#include "support/user_error.h"

namespace stratum::data {
namespace {

using ::testing::HasSubstr;
using testing::TempDir;
using testing::write_vocabulary;
using testing::user_error;

using Pieces = std::vector<std::string>;

// Expected pieces from Python: regex.findall(GPT-2's pattern, text).
TEST(Gpt2Pretokenize, SplitsAsGpt2sPattern) {
  EXPECT_EQ(gpt2_pretokenize("Hello world! It's 2024."), (Pieces{"Hello", " world", "!", " It", "'s", " 2024", "."}));
  EXPECT_EQ(gpt2_pretokenize("a  b\n\nc"), (Pieces{"a", " ", " b", "\n", "\n", "c"}));
  EXPECT_EQ(gpt2_pretokenize("  x y'll"), (Pieces{" ", " x", " y", "'ll"}));
  EXPECT_EQ(gpt2_pretokenize("tab\t\tend  "), (Pieces{"tab", "\t", "\t", "end", "  "}));
  EXPECT_EQ(gpt2_pretokenize("café 中文 🚀!?"), (Pieces{"café", " 中文", " 🚀!?"}));
  EXPECT_EQ(gpt2_pretokenize(" 's"), (Pieces{" '", "s"}));
  EXPECT_EQ(gpt2_pretokenize("x\u3000\u3000y"), (Pieces{"x", "\u3000", "\u3000", "y"}));
  EXPECT_EQ(gpt2_pretokenize(""), Pieces{});
}

TEST(Gpt2Tokenizer, MergesByRankAndRoundTripsAnyBytes) {
  TempDir dir;
  // "Ġ" is the space byte in GPT-2's alphabet.
  const Gpt2Tokenizer t(write_vocabulary(dir, "v", "#version: 0.2\nl o\nlo w\nĠ lo\nh e\n"));
  EXPECT_EQ(t.vocab_size(), 256 + 4 + 1);
  EXPECT_EQ(t.end_of_text_id(), 260);
  EXPECT_EQ(t.pad_id(), 260);
  EXPECT_EQ(t.kind(), "gpt2");
  // "low" -> "lo" "w" -> "low"; " low" -> "Ġ" "low" (Ġ lo has rank 2, lo w rank 1: lo w first).
  EXPECT_EQ(t.encode("low"), (std::vector<int32_t>{257}));
  EXPECT_EQ(t.encode(" lo"), (std::vector<int32_t>{258}));
  EXPECT_EQ(t.encode(" low"), (std::vector<int32_t>{t.encode(" ")[0], 257}));
  EXPECT_EQ(t.decode(t.encode("hello lowly")), "hello lowly");
  EXPECT_EQ(t.decode({260}), "<|endoftext|>");
  std::mt19937 random(7);
  for (int i = 0; i < 200; ++i) {
    std::string bytes(random() % 40, '\0');
    for (char& c : bytes) c = static_cast<char>(random() % 256);
    ASSERT_EQ(t.decode(t.encode(bytes)), bytes);
  }
  EXPECT_EQ(load_tokenizer(dir.path() + "/v")->kind(), "gpt2");
  EXPECT_EQ(load_tokenizer(dir.path() + "/v")->fingerprint(), t.fingerprint());
  EXPECT_EQ(t.fingerprint().size(), 64u);
}

TEST(Gpt2Tokenizer, BadFilesNameTheFileAndLine) {
  TempDir dir;
  const std::string folder = write_vocabulary(dir, "v", "#version: 0.2\nl o\n");
  dir.write("v/merges.txt", "#version: 0.2\nl o\nthree tokens here\n");
  EXPECT_EQ(user_error([&] { Gpt2Tokenizer t(folder); }),
            folder + "/merges.txt:3: expected two tokens separated by one space");
  dir.write("v/merges.txt", "q z\n");
  EXPECT_EQ(user_error([&] { Gpt2Tokenizer t(folder); }), folder + "/merges.txt:1: the merged token is not in vocab.json");
  dir.write("v/merges.txt", "");
  dir.write("v/vocab.json", "{\"a\": 0, \"b\": 0}");
  EXPECT_THAT(user_error([&] { Gpt2Tokenizer t(folder); }), HasSubstr(folder + "/vocab.json: token \""));
  dir.write("v/vocab.json", "{\"a\": 0}");
  EXPECT_EQ(user_error([&] { Gpt2Tokenizer t(folder); }),
            folder + "/vocab.json: no <|endoftext|> token (GPT-2's end of text and padding)");
  dir.write("v/vocab.json", "[1, 2]");
  EXPECT_EQ(user_error([&] { Gpt2Tokenizer t(folder); }), folder + "/vocab.json: not a JSON object of token -> id");
  EXPECT_THAT(user_error([&] { Gpt2Tokenizer t(dir.path()); }), HasSubstr(dir.path() + "/vocab.json: cannot open"));
}

// Trained by Hugging Face `tokenizers` on a corpus, encoded by transformers' GPT2Tokenizer:
// Stratum's ids are the same for text with contractions, numbers, runs of spaces, tabs and
// newlines, accents, CJK, emoji and Unicode spaces.
TEST(Gpt2Tokenizer, IdsEqualTransformersGpt2Tokenizer) {
  const std::string python = std::string(STRATUM_SOURCE_DIR) + "/.venv/bin/python";
  if (!std::ifstream(python)) {
    ADD_FAILURE() << python << " is missing: run scripts/setup.sh (it creates the venv with transformers)";
    return;
  }
  TempDir dir;
  std::string corpus = testing::read_file(std::string(STRATUM_SOURCE_DIR) + "/README.md");
  corpus += "\nnaïve café déjà vu — 中文字符 and 日本語 🚀🚀 it's they're we've I'm you'll he'd\n";
  const std::string corpus_path = dir.write("corpus.txt", corpus);
  const std::vector<std::string> texts = {
      "Hello world! It's 2024.", "Don't   stop\tme\n\nnow!!", "  leading and trailing  ", "naïve café déjà vu",
      "中文字符 日本語 🚀 emoji", "numbers 12345 3.14159 1e-5", "'s 'S 'll 'LL they're", "nbsp\u00a0and\u3000ideographic",
      "line\u2028separator", "tabs\t\t\tand  \n  spaces", "stratum train --config configs/gpt-fortunes.yaml",
      "A sentence with `code` and **markdown** | tables |", ""};
  std::string lines;
  for (const std::string& t : texts) lines += nlohmann::json(t).dump() + "\n";
  const std::string texts_path = dir.write("texts.jsonl", lines);
  const testing::CommandResult r = testing::run_command(python + " " + STRATUM_SOURCE_DIR +
                                                        "/scripts/parity/gpt2_tokenizer.py " + dir.path() + " " +
                                                        corpus_path + " " + texts_path);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  const Gpt2Tokenizer tokenizer(dir.path());
  std::istringstream expected(testing::read_file(dir.path() + "/expected.jsonl"));
  size_t i = 0;
  int64_t merged = 0;
  for (std::string line; std::getline(expected, line); ++i) {
    ASSERT_LT(i, texts.size());
    const auto ids = nlohmann::json::parse(line)["ids"].get<std::vector<int32_t>>();
    EXPECT_EQ(tokenizer.encode(texts[i]), ids) << "text " << i << ": " << texts[i];
    EXPECT_EQ(tokenizer.decode(ids), texts[i]);
    for (const int32_t id : ids) merged += id > 256;
  }
  EXPECT_EQ(i, texts.size());
  EXPECT_GT(merged, 20);           // merges were exercised
}

}  // namespace
}  // namespace stratum::data
