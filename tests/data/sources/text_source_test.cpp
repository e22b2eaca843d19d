#include "data/sources/text_source.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <sys/stat.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>
#include <zlib.h>

#include "core/error.h"
#include "core/sha256.h"
#include "core/text.h"
#include "data/sources/line_reader.h"
#include "data/hash.h"
#include "support/temp_dir.h"
#include "support/user_error.h"

namespace stratum::data {
namespace {

using ::testing::HasSubstr;
using testing::TempDir;

std::optional<std::string> parse(const std::string& line, const data::TextOptions& options, LabelVocabulary& labels,
                                 Record& record) {
  return parse_text_line(line, options, labels, record);
}

TEST(TextLines, JsonlRecordsKeepTheSliceFieldsAsJsonText) {
  data::TextOptions options;
  options.format = data::TextFormat::jsonl;
  LabelVocabulary labels({});
  Record r;
  const std::vector<std::string> fields = {"region", "user.age", "user", "absent", "a.b", "none"};
  EXPECT_FALSE(parse_text_line(R"({"text": "hi", "label": "x", "region": "north", "user": {"age": 42}, "a.b": true,)"
                               R"( "none": null})",
                               options, labels, r, true, fields));
  EXPECT_EQ(r.fields, (std::vector<std::string>{R"("north")", "42", R"({"age":42})", "", "true", ""}));
  EXPECT_FALSE(parse(R"({"text": "hi", "label": "x"})", options, labels, r));
  EXPECT_TRUE(r.fields.empty());  // no slice fields asked for: nothing kept
}

TEST(TextLines, LabelTabText) {
  data::TextOptions options;
  LabelVocabulary labels({});
  Record r;
  EXPECT_FALSE(parse("spam\tbuy now", options, labels, r));
  EXPECT_EQ(r.payload, "buy now");
  EXPECT_EQ(r.labels, (std::vector<int32_t>{0}));
  EXPECT_FALSE(parse("ham\thello\tworld", options, labels, r));
  EXPECT_EQ(r.payload, "hello\tworld");
  EXPECT_EQ(labels.names(), (std::vector<std::string>{"spam", "ham"}));
  EXPECT_EQ(*parse("no separator here", options, labels, r), "no \"\t\" between label and text");
  EXPECT_EQ(*parse("\ttext", options, labels, r), "empty label");
  LabelVocabulary fixed({"spam", "ham"});
  EXPECT_EQ(*parse("eggs\ttext", options, fixed, r), "unknown label \"eggs\" (not in data.labels)");
}

TEST(TextJsonl, FieldsMultiLabelTimeAndFeatures) {
  data::TextOptions options;
  options.format = data::TextFormat::jsonl;
  options.label_fields = {"tags"};
  options.time_field = "ts";
  options.feature_fields = {"score"};
  LabelVocabulary labels({});
  Record r;
  EXPECT_FALSE(parse(R"({"text": "hi", "tags": ["a", "b"], "ts": 12.5, "score": 0.25})", options, labels, r));
  EXPECT_EQ(r.payload, "hi");
  EXPECT_EQ(r.labels, (std::vector<int32_t>{0, 1}));
  EXPECT_EQ(r.time, 12.5);
  EXPECT_EQ(r.features, (std::vector<float>{0.25f}));
  EXPECT_EQ(*parse(R"({"text": "hi", "tags": "a", "ts": 1, "score": 1)", options, labels, r), "malformed JSON");
  EXPECT_EQ(*parse(R"({"tags": "a", "ts": 1, "score": 1})", options, labels, r), "missing string field \"text\"");
  EXPECT_EQ(*parse(R"({"text": "x", "ts": 1, "score": 1})", options, labels, r), "missing label field \"tags\"");
  EXPECT_EQ(*parse(R"({"text": "x", "tags": 3.5, "ts": 1, "score": 1})", options, labels, r),
            "label field \"tags\" is neither a string, an integer nor a list of them");
  EXPECT_EQ(*parse(R"({"text": "x", "tags": [true], "ts": 1, "score": 1})", options, labels, r),
            "label field \"tags\" holds a value that is neither a string nor an integer");
  // Integer class ids (Hugging Face ClassLabel columns) are labels named by their digits.
  EXPECT_FALSE(parse(R"({"text": "x", "tags": [3, "b"], "ts": 1, "score": 1})", options, labels, r));
  EXPECT_EQ(labels.names()[static_cast<size_t>(r.labels[0])], "3");
  EXPECT_EQ(labels.names()[static_cast<size_t>(r.labels[1])], "b");
  EXPECT_EQ(*parse(R"({"text": "x", "tags": "a", "score": 1})", options, labels, r), "missing numeric field \"ts\"");
  EXPECT_EQ(*parse(R"([1, 2])", options, labels, r), "not a JSON object");
}

TEST(TextSource, RejectsBadLinesWithLineNumbersAndBudget) {
  TempDir dir;
  std::string text;
  for (int i = 0; i < 200; ++i) text += (i % 2 ? "even\t" : "odd\t") + std::string("record ") + std::to_string(i) + "\n";
  text += "this line has no tab\n";
  const std::string path = dir.write("data.txt", text);
  data::DataOptions options;
  options.source = "text";
  options.path = path;
  options.unseen.by = data::UnseenBy::none;
  options.max_reject_fraction = 0.01;
  DataContext context;
  context.rejects_path = dir.path() + "/rejects.jsonl";
  const SplitData data = read_text_source(options, context);
  EXPECT_EQ(data.seen.size() + data.validation.size(), 200);
  EXPECT_EQ(data.spec.class_names, (std::vector<std::string>{"odd", "even"}));
  EXPECT_EQ(data.seen.inputs.scalar_type(), torch::kInt64);
  EXPECT_EQ(data.seen.inputs.size(1), 256);
  const auto reject = nlohmann::json::parse(testing::read_file(dir.path() + "/rejects.jsonl"));
  EXPECT_EQ(reject["line"], 201);
  EXPECT_EQ(reject["offset"], text.size() - std::string("this line has no tab\n").size());  // bytes, like kept records
  EXPECT_THAT(reject["reason"].get<std::string>(), HasSubstr("no \"\t\" between label"));
  options.max_reject_fraction = 0.001;
  EXPECT_THROW(read_text_source(options, context), UserError);
}

// Every line is one of: a record accepted, a record rejected (counted, in rejects.jsonl with
// its line and byte offset), or a blank line (counted apart: not a record).
TEST(TextSource, EveryLineIsAccountedForWhateverIsWrongWithIt) {
  TempDir dir;
  std::string lines;
  std::vector<std::string> bad = {
      "{\"text\": \"x\", \"label\": \"a\"",                 // malformed JSON
      "[1, 2]",                                                  // not an object
      "{\"label\": \"a\"}",                                      // no text
      "{\"text\": \"x\"}",                                       // no label
      "{\"text\": \"x\", \"label\": 7.5}",                       // label of the wrong type
      "{\"text\": \"x\", \"label\": \"\"}",                      // empty label
      "{\"text\": \"caf\xC3\", \"label\": \"a\"}",                // invalid UTF-8
      "{\"text\": \"x\", \"label\": \"" + std::string(300, 'L') + "\"}",  // label too long
      "{\"text\": \"x\", \"label\": \"a\", \"score\": \"high\"}",  // non-numeric feature
      std::string(LineReader::kMaxLineBytes + 10, 'z'),             // longer than a line may be
  };
  int64_t good = 0, blank = 0;
  for (int i = 0; i < 400; ++i) {
    if (i % 40 == 7) {
      lines += bad[static_cast<size_t>(i / 40)] + "\n";
    } else if (i % 50 == 3) {
      lines += (i % 100 == 3 ? "" : "\r") + std::string("\n"), ++blank;
    } else {
      lines += "{\"text\": \"item " + std::to_string(i) + "\", \"label\": \"" + (i % 3 ? "a" : "b") + "\", \"score\": 1}\n";
      ++good;
    }
  }
  data::DataOptions options;
  options.source = "text";
  options.path = dir.write("mixed.jsonl", lines);
  options.text.format = data::TextFormat::jsonl;
  options.text.feature_fields = {"score"};
  options.unseen.by = data::UnseenBy::none;
  options.max_reject_fraction = 0.5;
  DataContext context;
  context.rejects_path = dir.path() + "/rejects.jsonl";
  const SplitData data = read_text_source(options, context);
  EXPECT_EQ(data.records_accepted, good);
  EXPECT_EQ(data.records_rejected, static_cast<int64_t>(bad.size()));
  EXPECT_EQ(data.records_read, data.records_accepted + data.records_rejected);
  EXPECT_EQ(data.blank_lines, blank);
  ASSERT_EQ(data.files.size(), 1u);
  EXPECT_EQ(data.files[0].records_read, data.records_read);
  EXPECT_EQ(data.files[0].blank_lines, blank);
  const auto manifest = nlohmann::json::parse(data.manifest);
  EXPECT_EQ(manifest["records_read"], data.records_read);
  EXPECT_EQ(manifest["records_accepted"], good);
  EXPECT_EQ(manifest["files"][0]["sha256"].get<std::string>().size(), 64u);
  std::vector<std::string> reasons;
  for (const std::string& line : split(testing::read_file(context.rejects_path), '\n')) {
    if (line.empty()) continue;
    const auto j = nlohmann::json::parse(line);
    EXPECT_EQ((j["line"].get<int64_t>() - 8) % 40, 0) << line;  // line i + 1 for i = 7, 47, ...
    reasons.push_back(j["reason"].get<std::string>());
  }
  ASSERT_EQ(reasons.size(), bad.size());
  EXPECT_EQ(reasons[0], "malformed JSON");
  EXPECT_EQ(reasons[6], "invalid UTF-8 at byte 13 of the line");
  EXPECT_THAT(reasons[7], HasSubstr("label of 300 bytes"));
  EXPECT_THAT(reasons[9], HasSubstr("line longer than 16 MiB"));
}

TEST(TextSource, ALabelThatIsNotUtf8IsRejectedNotFatal) {
  TempDir dir;
  std::string text;
  for (int i = 0; i < 300; ++i) text += std::string(i == 150 ? "bad\xFF\xFE" : i % 2 ? "x" : "y") + "\tline " + std::to_string(i) + "\n";
  data::DataOptions options;
  options.source = "text";
  options.path = dir.write("t.txt", text);
  options.unseen.by = data::UnseenBy::none;
  const SplitData data = read_text_source(options, DataContext{});
  EXPECT_EQ(data.records_rejected, 1);
  EXPECT_EQ(data.spec.class_names, (std::vector<std::string>{"y", "x"}));
  EXPECT_NO_THROW(nlohmann::json::parse(data.manifest));
}

TEST(TextSource, TooManyDistinctLabelsAreRejectedPastMaxClasses) {
  TempDir dir;
  std::string text;
  for (int i = 0; i < 3000; ++i) text += "label" + std::to_string(i % 2500) + "\ttext " + std::to_string(i) + "\n";
  data::DataOptions options;
  options.source = "text";
  options.path = dir.write("t.txt", text);
  options.unseen.by = data::UnseenBy::none;
  options.max_classes = 2000;
  options.max_reject_fraction = 1.0;
  const SplitData data = read_text_source(options, DataContext{});
  EXPECT_EQ(data.spec.num_classes, 2000);
  EXPECT_EQ(data.records_rejected, 500);  // labels 2000..2499 (each once)
  options.max_reject_fraction = 0.01;
  EXPECT_THAT(testing::user_error([&] { read_text_source(options, DataContext{}); }),
              HasSubstr("would exceed 2000 distinct labels (data.max_classes)"));
}

TEST(TextSource, EmptyOrBlankOnlyInputNamesTheFile) {
  TempDir dir;
  data::DataOptions options;
  options.source = "text";
  options.unseen.by = data::UnseenBy::none;
  options.path = dir.write("empty.txt", "");
  EXPECT_EQ(testing::user_error([&] { read_text_source(options, DataContext{}); }),
            "data.path: " + options.path + ": no records (the input is empty)");
  options.path = dir.write("blank.txt", "\n\n\r\n\n");
  EXPECT_EQ(testing::user_error([&] { read_text_source(options, DataContext{}); }),
            "data.path: " + options.path + ": no records (only 4 blank lines)");
}

TEST(TextSource, AFifoIsReadOnceAndHashedWhileReading) {
  TempDir dir;
  const std::string fifo = dir.path() + "/feed";
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  std::string text;
  for (int i = 0; i < 200; ++i) text += std::string(i % 2 ? "a" : "b") + "\tline " + std::to_string(i) + "\n";
  std::thread writer([&] {
    std::FILE* f = std::fopen(fifo.c_str(), "w");
    std::fwrite(text.data(), 1, text.size(), f);
    std::fclose(f);
  });
  data::DataOptions options;
  options.source = "text";
  options.path = fifo;
  options.unseen.by = data::UnseenBy::none;
  const SplitData data = read_text_source(options, DataContext{});  // would hang if the manifest reopened it
  writer.join();
  const auto manifest = nlohmann::json::parse(data.manifest);
  EXPECT_EQ(manifest["files"][0]["sha256"], sha256_hex(text));
  EXPECT_EQ(manifest["files"][0]["bytes"], text.size());
  EXPECT_EQ(manifest["files"][0]["hashed"], "stream, to its end");
}

// gzip bytes (one member at a time, as `gzip` writes them) of `text`.
std::string gzip_bytes(const std::string& text, int level = 6) {
  z_stream z{};
  deflateInit2(&z, level, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
  std::string out(deflateBound(&z, text.size()) + 64, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));
  z.avail_in = static_cast<uInt>(text.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  deflate(&z, Z_FINISH);
  out.resize(out.size() - z.avail_out);
  deflateEnd(&z);
  return out;
}

// A gzip file (two members back to back, as `cat a.gz b.gz` makes) reads as its text: the same
// records and splits as the plain file, the manifest pinning the compressed bytes on disk; a
// truncated or corrupted one is a one-line error naming the file.
TEST(TextSource, GzipFilesReadAsTheirTextAndDamageNamesTheFile) {
  TempDir dir;
  std::string first, second;
  for (int i = 0; i < 300; ++i) (i < 170 ? first : second) += std::string(i % 3 ? "a" : "b") + "\tline " + std::to_string(i) + "\n";
  const std::string plain = dir.write("lines.txt", first + second);
  const std::string compressed = gzip_bytes(first) + gzip_bytes(second, 9);
  const std::string gz = dir.write("lines.txt.gz", compressed);
  data::DataOptions options;
  options.source = "text";
  options.unseen.by = data::UnseenBy::none;
  options.path = plain;
  const SplitData from_plain = read_text_source(options, DataContext{});
  options.path = gz;
  const SplitData from_gz = read_text_source(options, DataContext{});
  EXPECT_EQ(from_gz.records_accepted, 300);
  EXPECT_TRUE(from_gz.seen.inputs.equal(from_plain.seen.inputs));
  EXPECT_TRUE(from_gz.validation.targets.equal(from_plain.validation.targets));
  const auto manifest = nlohmann::json::parse(from_gz.manifest);
  EXPECT_EQ(manifest["files"][0]["sha256"], sha256_hex(compressed));
  EXPECT_EQ(manifest["files"][0]["bytes"], compressed.size());
  // Line offsets count decompressed bytes: the 200th line starts where it does in the text.
  LineReader reader(gz);
  std::string line;
  for (int i = 0; i < 200; ++i) ASSERT_TRUE(reader.next(line));
  EXPECT_EQ(line, "a\tline 199");
  EXPECT_EQ(reader.line_offset(), (first + second).find("a\tline 199"));

  const std::string truncated = dir.write("truncated.gz", compressed.substr(0, compressed.size() - 30));
  options.path = truncated;
  EXPECT_THAT(testing::user_error([&] { read_text_source(options, DataContext{}); }),
              HasSubstr(truncated + ": truncated gzip data (the file ends inside a compressed stream"));
  std::string damaged = compressed;
  for (size_t i = 40; i < 80; ++i) damaged[i] = static_cast<char>(damaged[i] ^ 0x5a);
  options.path = dir.write("damaged.gz", damaged);
  EXPECT_THAT(testing::user_error([&] { read_text_source(options, DataContext{}); }),
              HasSubstr(options.path + ": corrupt gzip data before compressed byte "));
}

TEST(TextSource, MultiLabelJsonlSplitsWeightAndCountsPairs) {
  TempDir dir;
  std::string lines;
  for (int i = 0; i < 100; ++i) {
    lines += R"({"text": "item )" + std::to_string(i) + R"(", "tags": )" +
             (i % 2 ? R"(["a", "b"])" : R"(["c"])") + "}\n";
  }
  data::DataOptions options;
  options.source = "text";
  options.path = dir.write("multi.jsonl", lines);
  options.text.format = data::TextFormat::jsonl;
  options.text.label_fields = {"tags"};
  options.unseen.by = data::UnseenBy::none;
  options.validation_fraction = 0;
  options.reservoir.multi_label = data::MultiLabel::split;
  const SplitData data = read_text_source(options, DataContext{});
  EXPECT_EQ(data.cooccurrence.at({1, 2}), 50);  // ids in first-seen order: c = 0, a = 1, b = 2
  EXPECT_EQ(data.sampler.entered, 150);  // split: a two-label record enters both reservoirs
  // Each copy trains as the label of the reservoir that kept it.
  EXPECT_EQ(data.label_counts.at("seen"), (std::vector<int64_t>{50, 50, 50}));
  EXPECT_THAT(data.manifest, HasSubstr("\"label_cooccurrence\""));
}

TEST(FortunesSource, RealCorpusSplitsAreDisjointAndLabeledByFile) {
  const std::string path = "/usr/share/games/fortunes";
  ASSERT_TRUE(std::filesystem::is_directory(path)) << "install fortunes (scripts/setup.sh does)";
  data::DataOptions options;
  options.source = "fortunes";
  options.path = path;
  options.unseen.by = data::UnseenBy::time;
  options.unseen.after = 12000;
  options.reservoir.max_items = 100000;
  options.reservoir.max_per_label = 100000;
  options.reservoir.label_share_cap = 1.0;
  options.text.max_length = 512;
  const SplitData data = read_fortunes_source(options, DataContext{});
  EXPECT_GT(data.spec.num_classes, 30);
  EXPECT_NE(std::find(data.spec.class_names.begin(), data.spec.class_names.end(), "computers"),
            data.spec.class_names.end());
  EXPECT_GT(data.seen.size(), 5000);
  EXPECT_GT(data.unseen.size(), 1000);
  // Complete texts (rows that end in padding) never appear in two splits.
  const auto complete_rows = [](const TensorDataset& d) {
    std::set<uint64_t> hashes;
    for (int64_t i = 0; i < d.size(); ++i) {
      const torch::Tensor row = d.inputs[i].contiguous();
      if (row[-1].item<int64_t>() == 256) hashes.insert(content_hash(row.data_ptr<int64_t>(), row.numel() * 8));
    }
    return hashes;
  };
  const auto seen = complete_rows(data.seen), validation = complete_rows(data.validation);
  EXPECT_GT(validation.size(), 100u);
  for (uint64_t h : validation) EXPECT_EQ(seen.count(h), 0u);
  int64_t records = 0;
  for (const auto& f : data.files) records += f.records_read;
  EXPECT_EQ(records, data.records_read);
}

TEST(FortunesSource, UnseenBySourceOrLabelHoldsOutWholeFiles) {
  TempDir dir;
  dir.write("cats", "meow\n%\npurr\n%\nhiss\n");
  dir.write("dogs", "woof\n%\nbark\n");
  dir.write("cats.dat", "index file, skipped");
  data::DataOptions options;
  options.source = "fortunes";
  options.path = dir.path();
  options.validation_fraction = 0;
  options.unseen.by = data::UnseenBy::source;
  options.unseen.sources = {"dogs"};
  SplitData data = read_fortunes_source(options, DataContext{});
  EXPECT_EQ(data.spec.class_names, (std::vector<std::string>{"cats", "dogs"}));
  EXPECT_EQ(data.label_counts.at("seen"), (std::vector<int64_t>{3, 0}));
  EXPECT_EQ(data.label_counts.at("unseen"), (std::vector<int64_t>{0, 2}));
  options.unseen.by = data::UnseenBy::label;
  options.unseen.labels = {"cats"};
  data = read_fortunes_source(options, DataContext{});
  EXPECT_EQ(data.label_counts.at("unseen"), (std::vector<int64_t>{3, 0}));
  options.unseen.by = data::UnseenBy::source;
  options.unseen.sources = {"dog"};
  const std::string error = testing::user_error([&] { read_fortunes_source(options, DataContext{}); });
  EXPECT_THAT(error, HasSubstr("data.unseen.sources: no fortune file \"dog\""));
  EXPECT_THAT(error, HasSubstr("(did you mean dogs?)"));
}

}  // namespace
}  // namespace stratum::data
