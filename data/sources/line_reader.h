#pragma once
// Incremental line reading with byte offsets, from a file or from standard input ("-"), so
// `tail -f log | stratum ...` streams and every record can name where it came from. The
// bytes are hashed as they pass, so a manifest can pin a pipe or FIFO without opening it twice.
// gzip- and zstd-compressed input (found by its magic bytes) is decompressed on the way: line
// offsets count decompressed bytes, the hash and byte count pin the compressed bytes as stored.

#include <cstdint>
#include <memory>
#include <string>

#include "core/sha256.h"

namespace stratum::data {

class StreamDecompressor;

/// Reads one line at a time; never loads the whole file, never holds more than one line.
class LineReader {
 public:
  /// Lines longer than this are cut and flagged (`truncated`); the caller rejects them.
  static constexpr size_t kMaxLineBytes = size_t{16} << 20;
  /// Why a `what` ("line", "record") over kMaxLineBytes is rejected, for rejects.jsonl.
  static std::string too_long(const std::string& what) {
    return what + " longer than " + std::to_string(kMaxLineBytes >> 20) + " MiB";
  }
  /// A file with no line break in this many bytes is not line-oriented text (a UserError).
  static constexpr uint64_t kMaxLineSpan = uint64_t{1} << 30;

  /// Opens `path` ("-": standard input); a missing file is a UserError naming it.
  explicit LineReader(const std::string& path);
  ~LineReader();
  LineReader(const LineReader&) = delete;
  LineReader& operator=(const LineReader&) = delete;

  /// The next line without its newline (and without a trailing '\r'); false at the end.
  bool next(std::string& line);

  uint64_t line_offset() const { return line_offset_; }  ///< byte offset of the last line returned
  uint64_t line_number() const { return line_number_; }  ///< 1-based number of the last line returned
  /// The last line was longer than kMaxLineBytes and holds only its start.
  bool truncated() const { return truncated_; }
  /// Everything up to the end of the input has been read.
  bool at_end() const { return at_end_; }
  /// Bytes read so far from the file (compressed, for compressed input) and their SHA-256.
  uint64_t bytes_read() const { return hash_.size(); }
  std::string sha256() const { return hash_.hex(); }

 private:
  bool fill();
  size_t read_raw(char* into);
  bool decompress_more();

  std::string path_;
  int fd_ = -1;
  bool owned_ = false;
  std::string buffer_;
  size_t start_ = 0;  // first unread byte of buffer_
  uint64_t offset_ = 0, line_offset_ = 0, line_number_ = 0;
  bool truncated_ = false, at_end_ = false, sniffed_ = false;
  std::unique_ptr<StreamDecompressor> decompressor_;  // null for plain text
  std::string input_;  // compressed bytes read and not yet decompressed: input_[input_used_..]
  size_t input_used_ = 0;
  Sha256 hash_;
};

}  // namespace stratum::data
