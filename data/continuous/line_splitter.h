#pragma once
// Cuts bytes that arrive in pieces (a pipe, a socket, a growing file) into lines, with a bound
// on a line's length that holds however long a line runs: an over-long line is discarded as it
// arrives and reported once, when its newline comes.

#include <cstddef>
#include <cstdint>
#include <string>

namespace stratum::data {

/// One line cut from the bytes, or the report of one that was too long.
struct SplitLine {
  std::string text;     ///< without its newline (and without a trailing '\r'); empty when too long
  uint64_t bytes = 0;   ///< bytes it spanned, newline included
  std::string problem;  ///< non-empty when the line was too long (the reason, for rejects.jsonl)
};

/// Incremental line splitting with a length bound.
class LineSplitter {
 public:
  explicit LineSplitter(size_t max_line_bytes) : max_(max_line_bytes) {}

  void feed(const char* data, size_t size);
  /// The next whole line; false when no newline has arrived yet.
  bool pop(SplitLine& line);
  /// At the end of the input: the unterminated last line, if any (false: none).
  bool pop_rest(SplitLine& line);
  /// Bytes of an unterminated line held or discarded so far.
  uint64_t pending_bytes() const { return discarded_ + (buffer_.size() - start_); }
  void clear();

 private:
  void emit(size_t end, uint64_t newline_bytes, SplitLine& line);

  size_t max_;
  std::string buffer_;
  size_t start_ = 0, scan_ = 0;
  uint64_t discarded_ = 0;  // bytes of an over-long line already dropped
  bool discarding_ = false;
};

}  // namespace stratum::data
