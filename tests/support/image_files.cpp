#include "support/image_files.h"

#include <turbojpeg.h>
#include <webp/encode.h>
#include <zlib.h>

#include <cmath>
#include <stdexcept>

namespace stratum::testing {
namespace {

void put32(std::string& out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out += static_cast<char>((v >> shift) & 0xff);
}

void chunk(std::string& out, const char* type, const std::string& data) {
  put32(out, static_cast<uint32_t>(data.size()));
  const std::string body = std::string(type, 4) + data;
  out += body;
  put32(out, static_cast<uint32_t>(crc32(0, reinterpret_cast<const Bytef*>(body.data()), static_cast<uInt>(body.size()))));
}

std::string ihdr(uint32_t width, uint32_t height, int channels) {
  std::string data;
  put32(data, width);
  put32(data, height);
  data += static_cast<char>(8);                      // bit depth
  data += static_cast<char>(channels == 1 ? 0 : 2);  // gray or RGB
  data += std::string(3, '\0');                      // compression, filter, interlace
  return data;
}

}  // namespace

std::vector<uint8_t> test_pattern(int height, int width, int channels, int seed) {
  std::vector<uint8_t> pixels(static_cast<size_t>(height * width * channels));
  uint32_t noise = 2463534242u + static_cast<uint32_t>(seed) * 7919u;
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      for (int c = 0; c < channels; ++c) {
        noise ^= noise << 13, noise ^= noise >> 17, noise ^= noise << 5;
        const double v = 127 + 90 * std::sin(0.07 * (c + 1 + seed) * x + 0.05 * (3 - c) * y + seed) + (noise % 25) - 12.0;
        pixels[static_cast<size_t>((y * width + x) * channels + c)] = static_cast<uint8_t>(std::fmin(255, std::fmax(0, v)));
      }
    }
  }
  return pixels;
}

std::string encode_jpeg(const std::vector<uint8_t>& pixels, int height, int width, int channels, int quality) {
  tjhandle handle = tjInitCompress();
  unsigned char* out = nullptr;
  unsigned long size = 0;
  const int rc = tjCompress2(handle, pixels.data(), width, 0, height, channels == 1 ? TJPF_GRAY : TJPF_RGB, &out, &size,
                             channels == 1 ? TJSAMP_GRAY : TJSAMP_420, quality, 0);
  std::string bytes = rc == 0 ? std::string(reinterpret_cast<char*>(out), size) : std::string();
  tjFree(out);
  tjDestroy(handle);
  if (rc != 0) throw std::runtime_error("tjCompress2 failed");
  return bytes;
}

std::string encode_png(const std::vector<uint8_t>& pixels, int height, int width, int channels) {
  std::string raw;  // each row: filter type 0, then the row's bytes
  for (int y = 0; y < height; ++y) {
    raw += '\0';
    raw.append(reinterpret_cast<const char*>(pixels.data()) + static_cast<size_t>(y * width * channels),
               static_cast<size_t>(width * channels));
  }
  std::string packed(compressBound(static_cast<uLong>(raw.size())), '\0');
  uLongf packed_size = static_cast<uLongf>(packed.size());
  compress(reinterpret_cast<Bytef*>(packed.data()), &packed_size, reinterpret_cast<const Bytef*>(raw.data()),
           static_cast<uLong>(raw.size()));
  packed.resize(packed_size);
  std::string out = "\x89PNG\r\n\x1a\n";
  chunk(out, "IHDR", ihdr(static_cast<uint32_t>(width), static_cast<uint32_t>(height), channels));
  chunk(out, "IDAT", packed);
  chunk(out, "IEND", "");
  return out;
}

std::string encode_webp_lossless(const std::vector<uint8_t>& rgb, int height, int width) {
  uint8_t* out = nullptr;
  const size_t size = WebPEncodeLosslessRGB(rgb.data(), width, height, width * 3, &out);
  std::string bytes(reinterpret_cast<char*>(out), size);
  WebPFree(out);
  return bytes;
}

std::string png_header_only(uint32_t width, uint32_t height) {
  std::string out = "\x89PNG\r\n\x1a\n";
  chunk(out, "IHDR", ihdr(width, height, 3));
  chunk(out, "IDAT", "");
  chunk(out, "IEND", "");
  return out;
}

}  // namespace stratum::testing
