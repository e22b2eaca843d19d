// JSONL and text lines: files mixing valid lines with mutants are read with every line
// accounted for (accepted, rejected with its line in rejects.jsonl, or blank), never a crash
// or an internal error; with the default error budget they are refused naming the first reject.

#include <gtest/gtest.h>

#include "core/text.h"
#include "data/sources/text_source.h"
#include "fuzz/fuzz_tally.h"
#include "fuzz/mutator.h"
#include "support/temp_dir.h"

namespace stratum::testing {
namespace {

const std::vector<std::string> kJsonTokens = {
    "{", "}", "[", "]", ",", ":", "\"", "null", "true", "1e400", "-0", "\"text\": ", "\"label\": ", "\"tags\": ",
    "\"ts\": ", "[\"a\", 3]", "\\u0000", "\\ud800", "\\", "\t", "\n"};

int count_lines(const std::string& text) {
  int n = 0;
  for (char c : text) n += c == '\n';
  return n;
}

void fuzz_format(const std::string& format, uint64_t seed, FuzzTally& tally, int& lines_total) {
  TempDir dir;
  Mutator mutator(seed, kJsonTokens);
  for (int file = 0; file < 25; ++file) {
    std::string text;
    int lines = 0;
    for (int i = 0; i < 120; ++i) {
      std::string line = format == "jsonl"
                             ? "{\"text\": \"record " + std::to_string(i) + "\", \"tags\": [\"" + (i % 3 ? "a" : "b") +
                                   "\"], \"ts\": " + std::to_string(i) + "}"
                             : std::string(i % 3 ? "a" : "b") + "\trecord " + std::to_string(i);
      if (i % 4 == 1) line = mutator.mutate(line);
      text += line + "\n";
    }
    lines = count_lines(text);
    lines_total += lines;
    data::DataOptions options;
    options.source = "text";
    options.path = dir.write("data.txt", text);
    options.text.format = format == "jsonl" ? data::TextFormat::jsonl : data::TextFormat::lines;
    options.text.label_fields = {"tags"};
    options.text.time_field = format == "jsonl" ? "ts" : "";
    options.unseen.by = data::UnseenBy::none;
    options.max_reject_fraction = 1.0;
    data::DataContext context;
    context.rejects_path = dir.path() + "/rejects.jsonl";
    tally.run(file, [&] {
      const data::SplitData d = data::read_text_source(options, context);
      EXPECT_EQ(d.records_read + d.blank_lines, lines) << format << " file " << file;
      EXPECT_EQ(d.records_read, d.records_accepted + d.records_rejected);
      EXPECT_EQ(count_lines(read_file(context.rejects_path)), d.records_rejected);
    });
    options.max_reject_fraction = 0.01;
    tally.run(file, [&] { data::read_text_source(options, context); });
  }
}

TEST(TextFuzz, MutatedLinesAreAccountedForOneByOne) {
  FuzzTally tally("JSONL / text lines");
  int lines = 0;
  fuzz_format("jsonl", 21, tally, lines);
  fuzz_format("lines", 22, tally, lines);
  std::printf("fuzz JSONL / text lines: %d lines read, a quarter of them mutated\n", lines);
}

}  // namespace
}  // namespace stratum::testing
