#pragma once
// Incremental line reading with byte offsets, from a file or from standard input ("-"), so
// `tail -f log | stratum ...` streams and every record can name where it came from.

#include <cstdint>
#include <cstdio>
#include <string>

namespace stratum::data {

/// Reads one line at a time; never loads the whole file.
class LineReader {
 public:
  /// Opens `path` ("-": standard input); a missing file is a UserError naming it.
  explicit LineReader(const std::string& path);
  ~LineReader();
  LineReader(const LineReader&) = delete;
  LineReader& operator=(const LineReader&) = delete;

  /// The next line without its newline (and without a trailing '\r'); false at the end.
  bool next(std::string& line);

  uint64_t line_offset() const { return line_offset_; }  ///< byte offset of the last line returned
  uint64_t line_number() const { return line_number_; }  ///< 1-based number of the last line returned

 private:
  std::FILE* file_ = nullptr;
  bool owned_ = false;
  uint64_t offset_ = 0, line_offset_ = 0, line_number_ = 0;
};

}  // namespace stratum::data
