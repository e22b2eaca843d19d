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

/// What an IdxReader does when the file is damaged (a bad header, a truncated or over-long
/// body, a broken gzip stream).
enum class IdxDamage {
  fail,         ///< a UserError naming the file and byte offset
  reject_rest,  ///< the rows that cannot be read go to the reject log, once
  report,       ///< reading stops and `damage()` says why; the caller accounts for the rows
};

/// Where and how an IDX file is damaged.
struct IdxProblem {
  uint64_t offset = 0;
  std::string reason;
};

/// Reads an IDX file incrementally, one row (one example) at a time.
class IdxReader {
 public:
  /// Opens `path` and reads its header. A missing file is always a UserError; damage is
  /// handled by `policy` (reject_rest needs `rejects`). A damaged header leaves the reader
  /// empty (no dims).
  IdxReader(const std::string& path, IdxDamage policy, RejectLog* rejects = nullptr);
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
  /// damaged (then as the policy says).
  bool next(std::string& row);

  /// The damage found so far (reason empty when none).
  const IdxProblem& damage() const { return damage_; }

 private:
  void damaged(uint64_t offset, const std::string& reason, int64_t rows);

  struct Stream;
  std::unique_ptr<Stream> in_;
  std::string path_;
  IdxDamage policy_;
  RejectLog* rejects_;
  IdxProblem damage_;
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
