#pragma once
// Encoded test images made in memory with the codec libraries themselves (TurboJPEG, zlib for
// PNG, libwebp), so image tests need no files and no Python.

#include <cstdint>
#include <string>
#include <vector>

namespace stratum::testing {

/// A smooth, noisy test pattern: height x width x channels bytes, varied by `seed`.
std::vector<uint8_t> test_pattern(int height, int width, int channels, int seed);

/// Encodings of `pixels` (height x width x channels, channels 1 or 3).
std::string encode_jpeg(const std::vector<uint8_t>& pixels, int height, int width, int channels, int quality = 90);
std::string encode_png(const std::vector<uint8_t>& pixels, int height, int width, int channels);
std::string encode_webp_lossless(const std::vector<uint8_t>& rgb, int height, int width);

/// A PNG whose header declares `width` x `height` and whose image data is empty.
std::string png_header_only(uint32_t width, uint32_t height);

}  // namespace stratum::testing
