#pragma once
// Incremental decompression of the compressed formats data files come in (gzip, zstd), found
// by their magic bytes, so every reader takes `.gz` and `.zst` files (and pipes) as they are.

#include <cstddef>
#include <memory>
#include <string>

namespace stratum::data {

/// One compressed stream being inflated: fed compressed bytes, it appends decompressed ones.
class StreamDecompressor {
 public:
  virtual ~StreamDecompressor() = default;

  /// Decompresses from `in[0..size)` into `out` (appending at most `max_out` bytes); returns
  /// how many input bytes it consumed. With `size` 0 it only flushes output it holds back.
  /// Corrupt data is a UserError naming `path`.
  virtual size_t decompress(const char* in, size_t size, std::string& out, size_t max_out) = 0;

  /// True when the input seen so far ends on a frame (member) boundary: the end of the file
  /// anywhere else means it was truncated.
  virtual bool at_frame_end() const = 0;

  /// The format's name, for messages: "gzip", "zstd".
  virtual const char* format() const = 0;
};

/// The decompressor for a stream starting with `head[0..size)` (at least 4 bytes unless the
/// stream is shorter), or null when it is not compressed. `path` names the input in errors.
std::unique_ptr<StreamDecompressor> decompressor_for(const char* head, size_t size, const std::string& path);

/// Bytes of the stream's start `decompressor_for` needs to decide.
constexpr size_t kCompressionMagicBytes = 4;

}  // namespace stratum::data
