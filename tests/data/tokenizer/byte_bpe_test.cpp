#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "data/data_options.h"
#include "data/sources/text_source.h"
#include "data/tokenizer/byte_bpe.h"
#include "support/temp_dir.h"
#include "tests/support/user_error.h"

namespace stratum::data {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

const char* kFortunes = "/usr/share/games/fortunes";

std::string concatenated(const std::vector<std::string>& pieces) {
  std::string out;
  for (const auto& p : pieces) out += p;
  return out;
}

// Every fortune file's whole text (the fortunes corpus as installed).
std::vector<std::string> fortune_files() {
  std::vector<std::string> texts;
  std::vector<std::filesystem::path> paths;
  for (const auto& entry : std::filesystem::directory_iterator(kFortunes)) {
    if (entry.is_regular_file() && entry.path().extension().empty()) paths.push_back(entry.path());
  }
  std::sort(paths.begin(), paths.end());
  for (const auto& path : paths) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    texts.push_back(text.str());
  }
  return texts;
}

TEST(BytePairTokenizer, PretokenizationKeepsWordsWithTheirLeadingSpaceAndLosesNothing) {
  EXPECT_THAT(pretokenize("Hello, world  42!\n\tok"),
              ElementsAre("Hello", ",", " world", " ", " 42", "!", "\n\t", "ok"));
  EXPECT_THAT(pretokenize("naïve café"), ElementsAre("naïve", " café"));  // UTF-8 stays inside words
  for (const std::string& text : {std::string(""), std::string("   "), std::string(" a"), std::string("a "),
                                 std::string("\x01\xff\x80 \n"), std::string("it's -- \"quoted\"...")}) {
    EXPECT_EQ(concatenated(pretokenize(text)), text);
  }
}

// Without a vocabulary file every byte is its own token, both ways (`stratum generate` decodes
// byte-level models with it).
TEST(BytePairTokenizer, TheDefaultIsByteLevelBothWays) {
  const BytePairTokenizer bytes;
  const std::string text = std::string("caf\xc3\xa9 \x00\xff tab\t", 13);
  const std::vector<int32_t> ids = bytes.encode(text);
  ASSERT_EQ(ids.size(), text.size());
  for (size_t i = 0; i < text.size(); ++i) EXPECT_EQ(ids[i], static_cast<unsigned char>(text[i]));
  EXPECT_EQ(bytes.decode(ids), text);
  EXPECT_EQ(bytes.decode({32, 256}), " ");  // the padding id decodes to nothing
  EXPECT_EQ(bytes.vocab_size(), 257);
  EXPECT_EQ(bytes.pad_id(), 256);
}

TEST(BytePairTokenizer, LearnsTheMostFrequentPairsFirstAndDeterministically) {
  const std::vector<std::string> corpus = {"low low low low lower lower newest newest newest widest"};
  const BytePairTokenizer a = BytePairTokenizer::train(corpus, 257 + 6);
  const BytePairTokenizer b = BytePairTokenizer::train(corpus, 257 + 6);
  EXPECT_EQ(a.merges(), b.merges());
  ASSERT_EQ(a.merges().size(), 6u);
  // "lo" and "ow" both occur 6 times (low x4, lower x2): the tie goes to the smaller ids.
  EXPECT_EQ(a.decode({256}), "lo") << a.to_json();
  EXPECT_EQ(a.decode({257}), "low") << a.to_json();
  EXPECT_EQ(a.vocab_size(), 263);
  EXPECT_EQ(a.pad_id(), 262);
  EXPECT_LT(a.encode(" lower").size(), std::string(" lower").size());
  EXPECT_EQ(a.decode(a.encode("low lower lowest")), "low lower lowest");
  // Training stops early when no pair is frequent enough.
  EXPECT_LT(BytePairTokenizer::train({"abcdefg"}, 1000, 2).merges().size(), 1u);
}

TEST(BytePairTokenizer, RoundTripsTheWholeFortunesCorpus) {
  const std::vector<std::string> files = fortune_files();
  ASSERT_GT(files.size(), 20u);
  std::vector<std::string> sample;  // learn from a slice of every file, then encode everything
  for (const auto& text : files) sample.push_back(text.substr(0, 8000));
  const BytePairTokenizer tokenizer = BytePairTokenizer::train(sample, 1024);
  EXPECT_EQ(tokenizer.vocab_size(), 1024);
  int64_t bytes = 0, tokens = 0;
  for (const auto& text : files) {
    const std::vector<int32_t> ids = tokenizer.encode(text);
    ASSERT_EQ(tokenizer.decode(ids), text);
    EXPECT_EQ(tokenizer.encode(text), ids);  // deterministic
    bytes += static_cast<int64_t>(text.size());
    tokens += static_cast<int64_t>(ids.size());
  }
  EXPECT_GT(bytes, 1000000);
  EXPECT_GT(static_cast<double>(bytes) / static_cast<double>(tokens), 2.0);  // it compresses
}

TEST(BytePairTokenizer, JsonRoundTripAndMalformedFiles) {
  const BytePairTokenizer trained = BytePairTokenizer::train({"the cat sat on the mat; the cat ate"}, 270);
  const BytePairTokenizer loaded = BytePairTokenizer::from_json(trained.to_json(), "t.json");
  EXPECT_EQ(loaded.merges(), trained.merges());
  EXPECT_EQ(loaded.encode("the cat"), trained.encode("the cat"));
  using stratum::testing::user_error;
  EXPECT_THAT(user_error([] { BytePairTokenizer::from_json("{", "t.json"); }), HasSubstr("t.json: not a JSON object"));
  EXPECT_THAT(user_error([] { BytePairTokenizer::from_json(R"({"type":"wordpiece"})", "t.json"); }),
              HasSubstr("not a byte-bpe tokenizer"));
  EXPECT_THAT(user_error([] { BytePairTokenizer::from_json(R"({"type":"byte-bpe","merges":[[1,300]]})", "t.json"); }),
              HasSubstr("t.json: merge 0 must be [a, b] with ids below 256"));
  EXPECT_THAT(user_error([] { BytePairTokenizer::load("/nonexistent/tok.json"); }),
              HasSubstr("/nonexistent/tok.json: cannot open the tokenizer file"));
}

TEST(BytePairTokenizer, TextSourcesEncodeWithTheConfiguredTokenizer) {
  stratum::testing::TempDir dir;
  const BytePairTokenizer tokenizer = BytePairTokenizer::train({"good day, good night, good morning"}, 280);
  data::DataOptions options;
  options.source = "text";
  options.path = dir.write("corpus.txt", "a\tgood day\nb\tgood night\na\tgood morning\nb\tgood evening\n");
  options.tokenizer.path = dir.write("tok.json", tokenizer.to_json());
  options.text.max_length = 6;
  options.validation_fraction = 0.0;
  options.unseen.by = data::UnseenBy::none;
  const SplitData data = read_text_source(options, {});
  EXPECT_EQ(data.spec.vocab_size, tokenizer.vocab_size());
  EXPECT_EQ(data.spec.pad_token, tokenizer.pad_id());
  ASSERT_EQ(data.seen.size(), 4);
  for (int64_t i = 0; i < data.seen.size(); ++i) {
    std::vector<int32_t> ids;
    for (int64_t t = 0; t < 6; ++t) {
      const int64_t id = data.seen.inputs[i][t].item<int64_t>();
      if (id != tokenizer.pad_id()) ids.push_back(static_cast<int32_t>(id));
    }
    const std::string text = tokenizer.decode(ids);
    EXPECT_THAT(text, ::testing::StartsWith("good ")) << text;
  }
}

}  // namespace
}  // namespace stratum::data
