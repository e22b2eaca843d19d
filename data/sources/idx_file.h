#pragma once
// Reader for the IDX format of MNIST-style data sets (raw or gzip-compressed).

#include <cstdint>
#include <string>
#include <vector>

namespace stratum::data {

class RejectLog;

/// An unsigned-byte IDX array: its dimensions and its values in row-major order.
struct IdxArray {
  std::vector<int64_t> dims;
  std::vector<uint8_t> values;
};

/// Reads `path` (gzip or uncompressed). A missing file is always a UserError. Without
/// `rejects`, so is a bad gzip stream, a wrong magic number, a non-ubyte element type, an
/// implausible size, or a truncated or over-long body, naming the file and the byte offset.
/// With `rejects`, a damaged body keeps every complete row and rejects the rest, and a
/// damaged header rejects the whole file (returning no rows); the caller checks the budget.
IdxArray read_idx(const std::string& path, RejectLog* rejects = nullptr);

}  // namespace stratum::data
