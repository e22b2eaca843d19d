#include "data/sources/line_reader.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/error.h"

namespace stratum::data {
namespace {

constexpr size_t kChunk = size_t{1} << 16;

}  // namespace

LineReader::LineReader(const std::string& path) : path_(path == "-" ? "<stdin>" : path) {
  if (path == "-") {
    fd_ = STDIN_FILENO;
    return;
  }
  fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd_ < 0) throw UserError(path + ": cannot open: " + std::strerror(errno));
  owned_ = true;
}

LineReader::~LineReader() {
  if (owned_) ::close(fd_);
}

// Appends what the input has now (up to a chunk) to buffer_; false at the end. read(2), not
// fread: on a pipe it returns the lines that have arrived instead of waiting for a full chunk.
bool LineReader::fill() {
  if (at_end_) return false;
  const size_t old = buffer_.size();
  buffer_.resize(old + kChunk);
  ssize_t got;
  do {
    got = ::read(fd_, buffer_.data() + old, kChunk);
  } while (got < 0 && errno == EINTR);
  if (got < 0) {
    buffer_.resize(old);
    throw UserError(path_ + ": read error at byte " + std::to_string(offset_) + ": " + std::strerror(errno));
  }
  buffer_.resize(old + static_cast<size_t>(got));
  if (got == 0) {
    at_end_ = true;
    return false;
  }
  hash_.update(buffer_.data() + old, static_cast<size_t>(got));
  return true;
}

bool LineReader::next(std::string& line) {
  line.clear();
  truncated_ = false;
  line_offset_ = offset_;
  uint64_t span = 0;  // bytes of this line seen so far
  while (true) {
    const size_t newline = buffer_.find('\n', start_);
    const size_t end = newline == std::string::npos ? buffer_.size() : newline;
    const size_t piece = end - start_;
    const size_t room = kMaxLineBytes - line.size();
    line.append(buffer_, start_, std::min(piece, room));
    truncated_ = truncated_ || piece > room;
    span += piece;
    if (newline != std::string::npos) {
      start_ = newline + 1;
      offset_ += span + 1;
      break;
    }
    start_ = 0;
    buffer_.clear();
    if (span > kMaxLineSpan) {
      throw UserError(path_ + ": no line break in " + std::to_string(span) + " bytes from byte " +
                      std::to_string(line_offset_) + " (line " + std::to_string(line_number_ + 1) +
                      "): not line-oriented text");
    }
    if (!fill()) {
      if (span == 0) return false;
      offset_ += span;
      break;
    }
  }
  if (start_ > kChunk) {  // keep the buffer small
    buffer_.erase(0, start_);
    start_ = 0;
  }
  if (!line.empty() && line.back() == '\r' && !truncated_) line.pop_back();
  ++line_number_;
  return true;
}

}  // namespace stratum::data
