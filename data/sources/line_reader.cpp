#include "data/sources/line_reader.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "core/error.h"
#include "data/compression/stream_decompressor.h"

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

// Reads what the input has now (up to a chunk) into `into` and hashes it; 0 at the end.
// read(2), not fread: on a pipe it returns the lines that have arrived instead of waiting for
// a full chunk.
size_t LineReader::read_raw(char* into) {
  ssize_t got;
  do {
    got = ::read(fd_, into, kChunk);
  } while (got < 0 && errno == EINTR);
  if (got < 0) throw UserError(path_ + ": read error at byte " + std::to_string(hash_.size()) + ": " + std::strerror(errno));
  hash_.update(into, static_cast<size_t>(got));
  return static_cast<size_t>(got);
}

// Appends what the input has now to buffer_; false at the end. The first bytes decide whether
// the input is compressed (then decompressed from there on) or plain text.
bool LineReader::fill() {
  if (at_end_) return false;
  if (decompressor_) return decompress_more();
  const size_t old = buffer_.size();
  size_t got = 0;
  do {  // a pipe may deliver the magic bytes over several reads: gather enough to decide
    buffer_.resize(old + got + kChunk);
    const size_t more = read_raw(buffer_.data() + old + got);
    got += more;
    buffer_.resize(old + got);
    if (more == 0) break;
  } while (!sniffed_ && got < kCompressionMagicBytes);
  if (!sniffed_) {
    sniffed_ = true;
    decompressor_ = decompressor_for(buffer_.data() + old, got, path_);
    if (decompressor_) {
      input_.assign(buffer_.begin() + static_cast<std::ptrdiff_t>(old), buffer_.end());
      input_used_ = 0;
      buffer_.resize(old);
      return decompress_more();
    }
  }
  if (got == 0) at_end_ = true;
  return got > 0;
}

// Decompresses until some text comes out (at most a chunk); false at the end of the input. A
// stream that ends inside a frame is truncated; bytes that do not decompress are corrupt.
bool LineReader::decompress_more() {
  while (true) {
    if (input_used_ == input_.size()) {
      input_.resize(kChunk);
      input_.resize(read_raw(input_.data()));
      input_used_ = 0;
      if (input_.empty()) {
        const size_t old = buffer_.size();
        decompressor_->decompress(input_.data(), 0, buffer_, kChunk);  // output held back for lack of room
        if (buffer_.size() > old) return true;
        if (!decompressor_->at_frame_end()) {
          throw UserError(path_ + ": truncated " + decompressor_->format() +
                          " data (the file ends inside a compressed stream, after " + std::to_string(hash_.size()) +
                          " bytes)");
        }
        at_end_ = true;
        return false;
      }
    }
    const size_t old = buffer_.size();
    input_used_ += decompressor_->decompress(input_.data() + input_used_, input_.size() - input_used_, buffer_, kChunk);
    if (buffer_.size() > old) return true;
  }
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
