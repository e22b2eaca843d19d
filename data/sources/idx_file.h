#pragma once
// Reader for the IDX format of MNIST-style data sets (raw or gzip-compressed).

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace stratum::data {

class RejectLog;

/// An unsigned-byte IDX array: its dimensions and its values in row-major order.
struct IdxArray {
  std::vector<int64_t> dims;
  std::vector<uint8_t> values;
};

/// Reads an IDX file incrementally, one row (one example) at a time.
class IdxReader {
 public:
  /// Opens `path` and reads its header. A missing file is a UserError. A damaged header is a
  /// UserError without `rejects`; with it, the whole file is rejected and the reader is empty.
  IdxReader(const std::string& path, RejectLog* rejects);
  ~IdxReader();
  IdxReader(const IdxReader&) = delete;
  IdxReader& operator=(const IdxReader&) = delete;

  /// Dimensions from the header (empty when the file was rejected); rows = dims[0].
  const std::vector<int64_t>& dims() const { return dims_; }
  int64_t rows() const { return dims_.empty() ? 0 : dims_[0]; }
  int64_t row_bytes() const { return row_bytes_; }
  int64_t rows_read() const { return rows_read_; }
  /// Byte offset of row `i` in the uncompressed file.
  uint64_t row_offset(int64_t i) const { return header_bytes_ + static_cast<uint64_t>(i * row_bytes_); }

  /// Reads the next row into `row`. False at the end of the rows, or when the body is
  /// damaged: then the rest is rejected (with `rejects`) or a UserError names the offset.
  bool next(std::string& row);

 private:
  struct Stream;
  std::unique_ptr<Stream> in_;
  std::string path_;
  RejectLog* rejects_;
  std::vector<int64_t> dims_;
  int64_t row_bytes_ = 0;
  int64_t rows_read_ = 0;
  uint64_t header_bytes_ = 0;
  bool done_ = false;
};

/// Reads `path` (gzip or uncompressed) whole, through IdxReader. A missing file is always a UserError. Without
/// `rejects`, so is a bad gzip stream, a wrong magic number, a non-ubyte element type, an
/// implausible size, or a truncated or over-long body, naming the file and the byte offset.
/// With `rejects`, a damaged body keeps every complete row and rejects the rest, and a
/// damaged header rejects the whole file (returning no rows); the caller checks the budget.
IdxArray read_idx(const std::string& path, RejectLog* rejects = nullptr);

}  // namespace stratum::data
