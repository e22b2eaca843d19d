// Compressed line input: zstd files (several frames back to back) read as their text, output
// far larger than the input is handed out a chunk at a time, magic bytes arriving one byte per
// read on a pipe are recognised, and truncated or corrupt data names the file.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include <filesystem>
#include <string>
#include <thread>

#include "core/sha256.h"
#include "data/compression/stream_decompressor.h"
#include "data/csv.h"
#include "data/quality/labeled_file.h"
#include "data/sources/line_reader.h"
#include "support/temp_dir.h"
#include "support/user_error.h"

namespace stratum::data {
namespace {

using ::testing::HasSubstr;
using testing::TempDir;

// One zstd frame of `text`.
std::string zstd_bytes(const std::string& text, int level = 3) {
  std::string out(ZSTD_compressBound(text.size()), '\0');
  const size_t size = ZSTD_compress(out.data(), out.size(), text.data(), text.size(), level);
  EXPECT_FALSE(ZSTD_isError(size));
  out.resize(size);
  return out;
}

std::vector<std::string> all_lines(const std::string& path) {
  LineReader reader(path);
  std::vector<std::string> lines;
  std::string line;
  while (reader.next(line)) lines.push_back(line);
  return lines;
}

TEST(CompressedLines, ZstdFramesReadAsTheirTextWithOffsetsInTheText) {
  TempDir dir;
  std::string first, second;
  for (int i = 0; i < 500; ++i) (i < 300 ? first : second) += "line " + std::to_string(i) + "\n";
  const std::string compressed = zstd_bytes(first) + zstd_bytes(second, 19);  // `cat a.zst b.zst`
  const std::string path = dir.write("lines.txt.zst", compressed);
  const auto lines = all_lines(path);
  ASSERT_EQ(lines.size(), 500u);
  EXPECT_EQ(lines[0], "line 0");
  EXPECT_EQ(lines[499], "line 499");
  LineReader reader(path);
  std::string line;
  for (int i = 0; i < 400; ++i) ASSERT_TRUE(reader.next(line));
  EXPECT_EQ(reader.line_offset(), (first + second).find("line 399\n"));
  while (reader.next(line)) {
  }
  EXPECT_TRUE(reader.at_end());
  EXPECT_EQ(reader.bytes_read(), compressed.size());  // the file as stored is what is pinned
  EXPECT_EQ(reader.sha256(), sha256_hex(compressed));
}

// 64 MiB of text from a few KiB of zstd: the reader never holds more than a chunk of it, and a
// line over the limit is cut and flagged, not grown without bound.
TEST(CompressedLines, ABombOfOneEndlessLineIsCutAndFlagged) {
  TempDir dir;
  const std::string huge(size_t{20} << 20, 'x');
  const std::string path = dir.write("bomb.zst", zstd_bytes(huge + "\nshort\n", 19));
  EXPECT_LT(std::filesystem::file_size(path), size_t{64} << 10);
  LineReader reader(path);
  std::string line;
  ASSERT_TRUE(reader.next(line));
  EXPECT_TRUE(reader.truncated());
  EXPECT_EQ(line.size(), LineReader::kMaxLineBytes);
  ASSERT_TRUE(reader.next(line));
  EXPECT_EQ(line, "short");
  EXPECT_FALSE(reader.next(line));
}

TEST(CompressedLines, TruncatedOrCorruptZstdNamesTheFile) {
  TempDir dir;
  std::string text;
  for (int i = 0; i < 2000; ++i) text += "record number " + std::to_string(i * 7919) + "\n";
  const std::string compressed = zstd_bytes(text);
  const std::string truncated = dir.write("cut.zst", compressed.substr(0, compressed.size() - 20));
  EXPECT_THAT(testing::user_error([&] { all_lines(truncated); }),
              HasSubstr(truncated + ": truncated zstd data (the file ends inside a compressed stream"));
  std::string damaged = compressed;
  for (size_t i = 30; i < 60; ++i) damaged[i] = static_cast<char>(damaged[i] ^ 0x5a);
  const std::string corrupt = dir.write("bad.zst", damaged);
  EXPECT_THAT(testing::user_error([&] { all_lines(corrupt); }), HasSubstr(corrupt + ": corrupt zstd data before compressed byte "));
  // Only the magic: a stream that ends where its first frame should begin.
  const std::string magic = dir.write("magic.zst", compressed.substr(0, 4));
  EXPECT_THAT(testing::user_error([&] { all_lines(magic); }), HasSubstr(magic + ": "));
  // A frame header asking for a 2 GiB window is refused, not allocated.
  std::string window = compressed.substr(0, 4) + std::string("\x00\xd8", 2) + compressed.substr(6);
  const std::string wide = dir.write("wide.zst", window);
  EXPECT_THAT(testing::user_error([&] { all_lines(wide); }), HasSubstr(wide + ": corrupt zstd data"));
}

// A writer that hands the pipe one byte at a time: the reader still sees the gzip/zstd magic.
TEST(CompressedLines, MagicBytesSplitAcrossPipeReadsAreRecognised) {
  TempDir dir;
  const std::string fifo = dir.path() + "/pipe";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  const std::string compressed = zstd_bytes("alpha\nbeta\n");
  std::thread writer([&] {
    const int fd = ::open(fifo.c_str(), O_WRONLY);
    for (char c : compressed) {
      ASSERT_EQ(::write(fd, &c, 1), 1);
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    ::close(fd);
  });
  const auto lines = all_lines(fifo);
  writer.join();
  EXPECT_EQ(lines, (std::vector<std::string>{"alpha", "beta"}));
}

TEST(CompressedLines, PlainInputShorterThanTheMagicIsText) {
  TempDir dir;
  EXPECT_EQ(all_lines(dir.write("short.txt", "ab")), std::vector<std::string>{"ab"});
  EXPECT_EQ(all_lines(dir.write("one.txt", "\x28")), std::vector<std::string>{"\x28"});
  EXPECT_TRUE(all_lines(dir.write("empty.txt", "")).empty());
}

// CSV and JSON-lines tables (votes, annotations) read from compressed files like plain ones.
TEST(CompressedLines, CsvAndJsonlTablesReadCompressed) {
  TempDir dir;
  const std::string csv = "item,label\n1,\"a, quoted\"\n2,b\n";
  const CsvTable plain = read_csv(dir.write("t.csv", csv));
  const CsvTable packed = read_csv(dir.write("t.csv.zst", zstd_bytes(csv)));
  EXPECT_EQ(packed.header, plain.header);
  ASSERT_EQ(packed.rows.size(), 2u);
  EXPECT_EQ(packed.rows[0].fields, (std::vector<std::string>{"1", "a, quoted"}));
  EXPECT_EQ(packed.rows[1].line, 3);
  EXPECT_TRUE(is_jsonl_path("votes.jsonl.zst"));
  EXPECT_TRUE(is_jsonl_path("votes.ndjson.gz"));
  EXPECT_FALSE(is_jsonl_path("votes.csv.gz"));
  const CsvTable jsonl = read_table_file(dir.write("t.jsonl.zst", zstd_bytes("{\"item\": 1, \"label\": \"a\"}\n")));
  EXPECT_EQ(jsonl.header, (std::vector<std::string>{"item", "label"}));
  EXPECT_EQ(jsonl.rows.at(0).fields[1], "a");
}

}  // namespace
}  // namespace stratum::data
