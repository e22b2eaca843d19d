#include "data/idx_file.h"

#include <zlib.h>

#include <cerrno>
#include <cstring>
#include <memory>

#include "core/error.h"

namespace stratum::data {
namespace {

// Sizes read from a file are bounded before anything is allocated from them.
constexpr uint64_t kMaxIdxValues = uint64_t{1} << 32;

struct GzCloser {
  void operator()(gzFile_s* f) const { gzclose(f); }
};

class GzReader {
 public:
  explicit GzReader(const std::string& path) : path_(path) {
    errno = 0;
    file_.reset(gzopen(path.c_str(), "rb"));
    if (!file_) {
      throw UserError(path + ": cannot open: " + (errno ? std::strerror(errno) : "out of memory"));
    }
    gzbuffer(file_.get(), 1 << 17);
  }

  // Reads up to `size` bytes; returns how many were read. Corrupt compressed data throws.
  size_t read(void* out, size_t size) {
    size_t done = 0;
    while (done < size) {
      const unsigned chunk = static_cast<unsigned>(std::min<size_t>(size - done, 1u << 30));
      const int n = gzread(file_.get(), static_cast<char*>(out) + done, chunk);
      if (n < 0) {
        int code = 0;
        const char* message = gzerror(file_.get(), &code);
        throw UserError(path_ + ": bad gzip stream near byte " + std::to_string(offset_ + done) + ": " + message);
      }
      if (n == 0) break;
      done += static_cast<size_t>(n);
    }
    offset_ += done;
    return done;
  }

  uint64_t offset() const { return offset_; }

 private:
  std::string path_;
  std::unique_ptr<gzFile_s, GzCloser> file_;
  uint64_t offset_ = 0;
};

}  // namespace

IdxArray read_idx(const std::string& path) {
  GzReader in(path);
  unsigned char magic[4];
  if (in.read(magic, 4) != 4) throw UserError(path + ": truncated IDX file: no 4-byte header at offset 0");
  if (magic[0] != 0 || magic[1] != 0) {
    throw UserError(path + ": not an IDX file: wrong magic number at offset 0 (expected 00 00 08 NN)");
  }
  if (magic[2] != 0x08) {
    throw UserError(path + ": unsupported IDX element type 0x" + std::to_string(magic[2]) +
                    " at offset 2 (only unsigned bytes, 0x08)");
  }
  const int ndims = magic[3];
  if (ndims < 1 || ndims > 4) {
    throw UserError(path + ": implausible IDX rank " + std::to_string(ndims) + " at offset 3");
  }

  IdxArray array;
  uint64_t count = 1;
  for (int i = 0; i < ndims; ++i) {
    unsigned char be[4];
    const uint64_t at = in.offset();
    if (in.read(be, 4) != 4) throw UserError(path + ": truncated IDX header at offset " + std::to_string(at));
    const uint64_t d = (uint64_t{be[0]} << 24) | (uint64_t{be[1]} << 16) | (uint64_t{be[2]} << 8) | be[3];
    if (d == 0 || count * d > kMaxIdxValues) {
      throw UserError(path + ": implausible IDX dimension " + std::to_string(d) + " at offset " + std::to_string(at));
    }
    count *= d;
    array.dims.push_back(static_cast<int64_t>(d));
  }

  const uint64_t body_start = in.offset();
  array.values.resize(count);
  const size_t got = in.read(array.values.data(), count);
  if (got != count) {
    throw UserError(path + ": truncated IDX file: expected " + std::to_string(count) + " data bytes from offset " +
                    std::to_string(body_start) + ", found " + std::to_string(got));
  }
  unsigned char extra;
  if (in.read(&extra, 1) != 0) {
    throw UserError(path + ": IDX file longer than its header says: extra data at offset " +
                    std::to_string(body_start + count));
  }
  return array;
}

}  // namespace stratum::data
