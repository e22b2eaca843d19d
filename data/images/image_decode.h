#pragma once
// Encoded images (JPEG, PNG, WebP, found by their magic bytes) decoded to 8-bit pixels with
// well-kept libraries behind this wall: libjpeg-turbo, libpng, libwebp. Dimensions are read
// from the header and checked before any pixel memory is allocated, so a decompression bomb
// is refused, not decoded.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace stratum::data {

/// Pixels in row-major height × width × channels order (1: gray, 3: RGB).
struct Image {
  int64_t height = 0, width = 0, channels = 0;
  std::vector<uint8_t> pixels;
};

/// What decoding may cost: pixels of the declared size (height × width) at most.
struct DecodeLimits {
  int64_t max_pixels = int64_t{40} << 20;
};

/// The result of decoding: the image, or why it cannot be used (for rejects.jsonl).
struct DecodeResult {
  std::optional<Image> image;
  std::string problem;
};

/// Decodes `bytes` into `channels` (1 or 3) channels: color converted to gray by the ITU-R
/// 601-2 luma transform (as Pillow's convert("L")), gray repeated to RGB, alpha dropped.
/// Zero bytes, an unknown format, a corrupt or truncated stream, or a declared size over the
/// limit gives a problem instead of an image.
DecodeResult decode_image(const std::string& bytes, int64_t channels, const DecodeLimits& limits = {});

/// The format `bytes` start with: "jpeg", "png", "webp", or "" when none.
std::string image_format(const std::string& bytes);

}  // namespace stratum::data
