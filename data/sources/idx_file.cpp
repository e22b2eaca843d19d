#include "data/sources/idx_file.h"

#include <zlib.h>

#include <cerrno>
#include <cstring>
#include <memory>

#include "core/error.h"
#include "data/reject_log.h"

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

  // Reads up to `size` bytes; returns how many were read. Corrupt compressed data stops the
  // read and leaves its description in error().
  size_t read(void* out, size_t size) {
    size_t done = 0;
    while (done < size && error_.empty()) {
      const unsigned chunk = static_cast<unsigned>(std::min<size_t>(size - done, 1u << 30));
      const int n = gzread(file_.get(), static_cast<char*>(out) + done, chunk);
      if (n < 0) {
        int code = 0;
        error_ = std::string("bad gzip stream near byte ") + std::to_string(offset_ + done) + ": " +
                 gzerror(file_.get(), &code);
        break;
      }
      if (n == 0) break;
      done += static_cast<size_t>(n);
    }
    offset_ += done;
    return done;
  }

  const std::string& error() const { return error_; }

  uint64_t offset() const { return offset_; }

 private:
  std::string path_;
  std::unique_ptr<gzFile_s, GzCloser> file_;
  uint64_t offset_ = 0;
  std::string error_;
};

// A damaged-file problem: thrown without a reject log, logged and absorbed with one.
struct Damage {
  uint64_t offset;
  std::string reason;
};

}  // namespace

namespace {

IdxArray read_header(GzReader& in, uint64_t& count) {
  const auto damaged = [&](uint64_t offset, const std::string& reason) { return Damage{offset, reason}; };
  unsigned char magic[4];
  if (in.read(magic, 4) != 4) {
    throw damaged(0, in.error().empty() ? "truncated IDX file: no 4-byte header" : in.error());
  }
  if (magic[0] != 0 || magic[1] != 0) throw damaged(0, "not an IDX file: wrong magic number (expected 00 00 08 NN)");
  if (magic[2] != 0x08) {
    throw damaged(2, "unsupported IDX element type 0x" + std::to_string(magic[2]) + " (only unsigned bytes, 0x08)");
  }
  const int ndims = magic[3];
  if (ndims < 1 || ndims > 4) throw damaged(3, "implausible IDX rank " + std::to_string(ndims));
  IdxArray array;
  count = 1;
  for (int i = 0; i < ndims; ++i) {
    unsigned char be[4];
    const uint64_t at = in.offset();
    if (in.read(be, 4) != 4) throw damaged(at, "truncated IDX header");
    const uint64_t d = (uint64_t{be[0]} << 24) | (uint64_t{be[1]} << 16) | (uint64_t{be[2]} << 8) | be[3];
    if (d == 0 || count * d > kMaxIdxValues) throw damaged(at, "implausible IDX dimension " + std::to_string(d));
    count *= d;
    array.dims.push_back(static_cast<int64_t>(d));
  }
  return array;
}

}  // namespace

struct IdxReader::Stream : GzReader {
  using GzReader::GzReader;
};

IdxReader::IdxReader(const std::string& path, IdxDamage policy, RejectLog* rejects)
    : in_(std::make_unique<Stream>(path)), path_(path), policy_(policy), rejects_(rejects) {
  STRATUM_CHECK(policy != IdxDamage::reject_rest || rejects, "rejecting damaged rows needs a reject log");
  uint64_t count = 0;
  try {
    dims_ = read_header(*in_, count).dims;
  } catch (const Damage& d) {
    dims_.clear();
    done_ = true;
    damaged(d.offset, policy == IdxDamage::fail ? d.reason : d.reason + " (whole file rejected)", 1);
    return;
  }
  row_bytes_ = static_cast<int64_t>(count / static_cast<uint64_t>(dims_[0]));
  header_bytes_ = in_->offset();
}

IdxReader::~IdxReader() = default;

void IdxReader::damaged(uint64_t offset, const std::string& reason, int64_t rows) {
  if (policy_ == IdxDamage::fail) throw UserError(path_ + ": " + reason + " at byte " + std::to_string(offset));
  if (damage_.reason.empty()) damage_ = {offset, reason};
  if (policy_ == IdxDamage::reject_rest && rows > 0) rejects_->reject(path_, offset, reason, rows);
}

bool IdxReader::next(std::string& row) {
  if (done_) return false;
  if (rows_read_ == rows()) {
    done_ = true;
    unsigned char extra;
    if (in_->read(&extra, 1) != 0) {
      damaged(row_offset(rows()), "IDX file longer than its header says: extra data", 0);
    }
    return false;
  }
  row.resize(static_cast<size_t>(row_bytes_));
  const size_t got = in_->read(row.data(), row.size());
  if (got == row.size()) {
    ++rows_read_;
    return true;
  }
  done_ = true;
  const std::string cause = in_->error().empty() ? "truncated IDX file" : in_->error();
  if (policy_ == IdxDamage::fail) {
    const uint64_t expected = static_cast<uint64_t>(rows() * row_bytes_);
    const uint64_t found = static_cast<uint64_t>(rows_read_ * row_bytes_) + got;
    throw UserError(path_ + ": " + cause + ": expected " + std::to_string(expected) + " data bytes from byte " +
                    std::to_string(header_bytes_) + ", found " + std::to_string(found));
  }
  damaged(row_offset(rows_read_), cause + ": " + std::to_string(rows_read_) + " of " + std::to_string(rows()) + " rows complete",
          rows() - rows_read_);
  return false;
}

IdxArray read_idx(const std::string& path, RejectLog* rejects) {
  IdxReader reader(path, rejects ? IdxDamage::reject_rest : IdxDamage::fail, rejects);
  IdxArray array;
  array.dims = reader.dims();
  if (array.dims.empty()) return array;
  array.values.reserve(static_cast<size_t>(reader.rows() * reader.row_bytes()));
  std::string row;
  while (reader.next(row)) array.values.insert(array.values.end(), row.begin(), row.end());
  array.dims[0] = reader.rows_read();
  return array;
}

}  // namespace stratum::data
