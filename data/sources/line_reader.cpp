#include "data/sources/line_reader.h"

#include <fcntl.h>
#include <unistd.h>
#include <zlib.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "core/error.h"

namespace stratum::data {
namespace {

constexpr size_t kChunk = size_t{1} << 16;

}  // namespace

struct LineReader::Gzip {
  z_stream stream{};
  std::vector<char> input;  // compressed bytes read and not yet inflated: input[used..]
  size_t used = 0;
  bool member_ended = false;  // gzip files may be several members back to back
  explicit Gzip(const std::string& path) {
    if (inflateInit2(&stream, 16 + MAX_WBITS) != Z_OK) throw UserError(path + ": cannot start gzip decompression");
  }
  ~Gzip() { inflateEnd(&stream); }
  Gzip(const Gzip&) = delete;
  Gzip& operator=(const Gzip&) = delete;
};

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
// the input is gzip (then decompressed from there on) or plain text.
bool LineReader::fill() {
  if (at_end_) return false;
  if (gzip_) return inflate_more();
  const size_t old = buffer_.size();
  buffer_.resize(old + kChunk);
  const size_t got = read_raw(buffer_.data() + old);
  buffer_.resize(old + got);
  if (got == 0) {
    at_end_ = true;
    return false;
  }
  if (!sniffed_) {
    sniffed_ = true;
    if (got >= 2 && static_cast<unsigned char>(buffer_[old]) == 0x1f && static_cast<unsigned char>(buffer_[old + 1]) == 0x8b) {
      gzip_ = std::make_unique<Gzip>(path_);
      gzip_->input.assign(buffer_.begin() + static_cast<std::ptrdiff_t>(old), buffer_.end());
      buffer_.resize(old);
      return inflate_more();
    }
  }
  return true;
}

// Inflates until some text comes out (at most a chunk); false at the end of the input. A
// stream that ends inside a member is truncated; bytes that do not inflate are corrupt.
bool LineReader::inflate_more() {
  Gzip& g = *gzip_;
  z_stream& z = g.stream;
  while (true) {
    if (g.used == g.input.size()) {
      g.input.resize(kChunk);
      g.input.resize(read_raw(g.input.data()));
      g.used = 0;
      if (g.input.empty()) {
        if (!g.member_ended) {
          throw UserError(path_ + ": truncated gzip data (the file ends inside a compressed stream, after " +
                          std::to_string(hash_.size()) + " bytes)");
        }
        at_end_ = true;
        return false;
      }
    }
    if (g.member_ended) {  // another member follows
      inflateReset(&z);
      g.member_ended = false;
    }
    z.next_in = reinterpret_cast<Bytef*>(g.input.data() + g.used);
    z.avail_in = static_cast<uInt>(g.input.size() - g.used);
    const size_t old = buffer_.size();
    buffer_.resize(old + kChunk);
    z.next_out = reinterpret_cast<Bytef*>(buffer_.data() + old);
    z.avail_out = static_cast<uInt>(kChunk);
    const int rc = inflate(&z, Z_NO_FLUSH);
    const size_t produced = kChunk - z.avail_out;
    buffer_.resize(old + produced);
    g.used = g.input.size() - z.avail_in;
    if (rc == Z_STREAM_END) {
      g.member_ended = true;
    } else if (rc != Z_OK && rc != Z_BUF_ERROR) {
      throw UserError(path_ + ": corrupt gzip data before compressed byte " +
                      std::to_string(hash_.size() - (g.input.size() - g.used)) + " (" +
                      (z.msg ? z.msg : "inflate error " + std::to_string(rc)) + ")");
    }
    if (produced > 0) return true;
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
