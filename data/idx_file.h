#pragma once
// Reader for the IDX format of MNIST-style data sets (raw or gzip-compressed).

#include <cstdint>
#include <string>
#include <vector>

namespace stratum::data {

/// An unsigned-byte IDX array: its dimensions and its values in row-major order.
struct IdxArray {
  std::vector<int64_t> dims;
  std::vector<uint8_t> values;
};

/// Reads `path` (gzip or uncompressed). A missing file, a bad gzip stream, a wrong magic
/// number, a non-ubyte element type, an implausible size, or a truncated or over-long body
/// is a UserError naming the file and the byte offset.
IdxArray read_idx(const std::string& path);

}  // namespace stratum::data
