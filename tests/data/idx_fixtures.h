#pragma once
// Builds small IDX files (raw or gzip) for data tests.

#include <zlib.h>

#include <cstdint>
#include <string>
#include <vector>

namespace stratum::testing {

/// Bytes of an unsigned-byte IDX array with the given dimensions, values i % 251.
inline std::string idx_bytes(const std::vector<uint32_t>& dims, uint8_t value_offset = 0) {
  std::string out = {0, 0, 8, static_cast<char>(dims.size())};
  size_t count = 1;
  for (uint32_t d : dims) {
    out += static_cast<char>(d >> 24);
    out += static_cast<char>(d >> 16);
    out += static_cast<char>(d >> 8);
    out += static_cast<char>(d);
    count *= d;
  }
  for (size_t i = 0; i < count; ++i) out += static_cast<char>((i + value_offset) % 251);
  return out;
}

/// Labels 0..classes-1 repeating, as a 1-D IDX array.
inline std::string idx_labels(uint32_t n, uint8_t classes) {
  std::string out = {0, 0, 8, 1, static_cast<char>(n >> 24), static_cast<char>(n >> 16), static_cast<char>(n >> 8),
                     static_cast<char>(n)};
  for (uint32_t i = 0; i < n; ++i) out += static_cast<char>(i % classes);
  return out;
}

/// Writes `bytes` gzip-compressed to `path`.
inline void write_gzip(const std::string& path, const std::string& bytes) {
  gzFile f = gzopen(path.c_str(), "wb");
  gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size()));
  gzclose(f);
}

}  // namespace stratum::testing
