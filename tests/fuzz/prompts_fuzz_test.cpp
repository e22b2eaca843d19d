// `stratum generate --prompts FILE.jsonl`: files of valid prompt lines with mutants among them
// are read whole (one prompt per non-blank line) or refused with one line naming file:line,
// and every prompt read either passes the vocabulary and context checks or is refused by name.

#include <gtest/gtest.h>

#include "data/tokenizer/byte_bpe.h"
#include "engine/generation_prompts.h"
#include "fuzz/fuzz_tally.h"
#include "fuzz/mutator.h"
#include "support/temp_dir.h"

namespace stratum::testing {
namespace {

const std::vector<std::string> kJsonTokens = {"{", "}", "[", "]", ",", ":", "\"", "null", "true", "1e400", "-1",
                                              "99999999999999999999", "\"prompt\": ", "\"tokens\": ", "[256, 257]",
                                              "\\u0000", "\\ud800", "\\", "\t", "\n", "\r", "\xff"};

TEST(PromptsFuzz, MutatedPromptFilesReadWholeOrNameTheLine) {
  TempDir dir;
  Mutator mutator(31, kJsonTokens);
  const data::BytePairTokenizer bytes;
  FuzzTally tally("prompts");
  int read_whole = 0;
  for (int file = 0; file < 200; ++file) {
    std::string text;
    int prompts = 0;
    for (int i = 0; i < 6; ++i) {
      std::string line = i % 2 ? "{\"prompt\": \"line " + std::to_string(i) + "\"}"
                               : "{\"tokens\": [" + std::to_string(i) + ", 72, 105]}";
      if (mutator.below(10) == 0) line = mutator.mutate(line);
      text += line + "\n";
    }
    for (size_t at = 0, next; at < text.size(); at = next + 1) {
      next = text.find('\n', at);
      if (text.substr(at, next - at).find_first_not_of(" \t\r") != std::string::npos) ++prompts;
    }
    const std::string path = dir.write("prompts.jsonl", text);
    tally.run(file, [&] {
      std::vector<Prompt> read = read_prompt_file(path, bytes);
      EXPECT_EQ(static_cast<int>(read.size()), prompts) << text;
      ++read_whole;
      for (Prompt& p : read) check_prompt(p, bytes, /*context=*/64);
    }, text);
  }
  EXPECT_GT(read_whole, 60);  // the mutants do not refuse every file...
  EXPECT_LT(read_whole, 190);  // ...nor pass every one
}

}  // namespace
}  // namespace stratum::testing
