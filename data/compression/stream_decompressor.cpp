#include "data/compression/stream_decompressor.h"

#include <zlib.h>
#include <zstd.h>

#include "core/error.h"

namespace stratum::data {
namespace {

/// gzip through zlib's streaming inflate; a file may hold several members back to back.
class GzipDecompressor final : public StreamDecompressor {
 public:
  explicit GzipDecompressor(std::string path) : path_(std::move(path)) {
    if (inflateInit2(&z_, 16 + MAX_WBITS) != Z_OK) throw UserError(path_ + ": cannot start gzip decompression");
  }
  ~GzipDecompressor() override { inflateEnd(&z_); }
  GzipDecompressor(const GzipDecompressor&) = delete;
  GzipDecompressor& operator=(const GzipDecompressor&) = delete;

  size_t decompress(const char* in, size_t size, std::string& out, size_t max_out) override {
    if (member_ended_) {  // another member follows (or the input ended with this one)
      if (size == 0) return 0;
      inflateReset(&z_);
      member_ended_ = false;
    }
    z_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in));
    z_.avail_in = static_cast<uInt>(size);
    const size_t old = out.size();
    out.resize(old + max_out);
    z_.next_out = reinterpret_cast<Bytef*>(out.data() + old);
    z_.avail_out = static_cast<uInt>(max_out);
    const int rc = inflate(&z_, Z_NO_FLUSH);
    out.resize(old + (max_out - z_.avail_out));
    const size_t consumed = size - z_.avail_in;
    total_in_ += consumed;
    if (rc == Z_STREAM_END) {
      member_ended_ = true;
    } else if (rc != Z_OK && rc != Z_BUF_ERROR) {
      throw UserError(path_ + ": corrupt gzip data before compressed byte " + std::to_string(total_in_) + " (" +
                      (z_.msg ? z_.msg : "inflate error " + std::to_string(rc)) + ")");
    }
    return consumed;
  }
  bool at_frame_end() const override { return member_ended_; }
  const char* format() const override { return "gzip"; }

 private:
  std::string path_;
  z_stream z_{};
  bool member_ended_ = false;
  uint64_t total_in_ = 0;
};

/// zstd through its streaming API; a file may hold several frames back to back.
class ZstdDecompressor final : public StreamDecompressor {
 public:
  explicit ZstdDecompressor(std::string path) : path_(std::move(path)), stream_(ZSTD_createDStream()) {
    if (stream_ == nullptr) throw UserError(path_ + ": cannot start zstd decompression");
    // A frame may ask for a window up to 2^27 bytes by default: a hostile header cannot make
    // the reader allocate more than that.
    ZSTD_DCtx_setParameter(stream_, ZSTD_d_windowLogMax, 27);
  }
  ~ZstdDecompressor() override { ZSTD_freeDStream(stream_); }
  ZstdDecompressor(const ZstdDecompressor&) = delete;
  ZstdDecompressor& operator=(const ZstdDecompressor&) = delete;

  size_t decompress(const char* in, size_t size, std::string& out, size_t max_out) override {
    if (size == 0 && frame_ended_) return 0;  // nothing buffered; a new frame needs input
    ZSTD_inBuffer input{in, size, 0};
    const size_t old = out.size();
    out.resize(old + max_out);
    ZSTD_outBuffer output{out.data() + old, max_out, 0};
    const size_t rc = ZSTD_decompressStream(stream_, &output, &input);
    out.resize(old + output.pos);
    total_in_ += input.pos;
    if (ZSTD_isError(rc)) {
      throw UserError(path_ + ": corrupt zstd data before compressed byte " + std::to_string(total_in_) + " (" +
                      ZSTD_getErrorName(rc) + ")");
    }
    // 0: a frame is complete and flushed; the next bytes (if any) start a new one.
    frame_ended_ = rc == 0;
    return input.pos;
  }
  bool at_frame_end() const override { return frame_ended_; }
  const char* format() const override { return "zstd"; }

 private:
  std::string path_;
  ZSTD_DStream* stream_;
  bool frame_ended_ = false;
  uint64_t total_in_ = 0;
};

}  // namespace

std::unique_ptr<StreamDecompressor> decompressor_for(const char* head, size_t size, const std::string& path) {
  const auto byte = [&](size_t i) { return static_cast<unsigned char>(head[i]); };
  if (size >= 2 && byte(0) == 0x1f && byte(1) == 0x8b) return std::make_unique<GzipDecompressor>(path);
  if (size >= 4 && byte(0) == 0x28 && byte(1) == 0xb5 && byte(2) == 0x2f && byte(3) == 0xfd) {
    return std::make_unique<ZstdDecompressor>(path);
  }
  return nullptr;
}

}  // namespace stratum::data
