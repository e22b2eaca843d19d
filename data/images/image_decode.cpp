#include "data/images/image_decode.h"

#include <png.h>
#include <turbojpeg.h>
#include <webp/decode.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>

namespace stratum::data {
namespace {

DecodeResult failed(std::string problem) { return {std::nullopt, std::move(problem)}; }

std::optional<std::string> too_large(int64_t width, int64_t height, const DecodeLimits& limits) {
  if (width <= 0 || height <= 0) {
    return "corrupt image header: " + std::to_string(width) + "x" + std::to_string(height) + " pixels";
  }
  if (width > limits.max_pixels / height) {
    return "image of " + std::to_string(width) + "x" + std::to_string(height) + " pixels is over data.image.max_pixels (" +
           std::to_string(limits.max_pixels) + ")";
  }
  return std::nullopt;
}

// RGB or gray pixels converted to `channels` (luma with Pillow's integer weights).
Image convert(Image in, int64_t channels) {
  if (in.channels == channels) return in;
  Image out{in.height, in.width, channels, std::vector<uint8_t>(static_cast<size_t>(in.height * in.width * channels))};
  const int64_t n = in.height * in.width;
  if (channels == 1) {  // from RGB: L = R * 299/1000 + G * 587/1000 + B * 114/1000, as Pillow rounds it
    for (int64_t i = 0; i < n; ++i) {
      const uint8_t* p = &in.pixels[static_cast<size_t>(i * 3)];
      out.pixels[static_cast<size_t>(i)] = static_cast<uint8_t>((p[0] * 19595 + p[1] * 38470 + p[2] * 7471 + 0x8000) >> 16);
    }
  } else {
    for (int64_t i = 0; i < n; ++i) std::memset(&out.pixels[static_cast<size_t>(i * 3)], in.pixels[static_cast<size_t>(i)], 3);
  }
  return out;
}

DecodeResult decode_jpeg(const std::string& bytes, int64_t channels, const DecodeLimits& limits) {
  std::unique_ptr<void, int (*)(tjhandle)> handle(tjInitDecompress(), tjDestroy);
  if (!handle) return failed("cannot start JPEG decoding");
  int width = 0, height = 0, subsampling = 0, colorspace = 0;
  auto* data = reinterpret_cast<const unsigned char*>(bytes.data());
  const auto size = static_cast<unsigned long>(bytes.size());
  if (tjDecompressHeader3(handle.get(), data, size, &width, &height, &subsampling, &colorspace) != 0) {
    return failed(std::string("corrupt or truncated JPEG data (") + tjGetErrorStr2(handle.get()) + ")");
  }
  if (auto problem = too_large(width, height, limits)) return failed(*problem);
  const bool gray = colorspace == TJCS_GRAY;
  Image image{height, width, gray ? 1 : 3, std::vector<uint8_t>(static_cast<size_t>(width) * height * (gray ? 1 : 3))};
  // Accurate DCT: what Pillow's decoder uses, so pixels agree with it.
  if (tjDecompress2(handle.get(), data, size, image.pixels.data(), width, 0, height, gray ? TJPF_GRAY : TJPF_RGB,
                    TJFLAG_ACCURATEDCT | TJFLAG_STOPONWARNING) != 0) {
    return failed(std::string("corrupt or truncated JPEG data (") + tjGetErrorStr2(handle.get()) + ")");
  }
  return {convert(std::move(image), channels), ""};
}

// libpng's state for one decode. Plain data only: libpng reports errors by longjmp, which
// must not cross objects with destructors.
struct PngState {
  const std::string* bytes;
  size_t at;
  const DecodeLimits* limits;
  char message[256];
  unsigned char* pixels;  // malloc'd; the caller frees it
  png_bytep* rows;        // malloc'd; freed here
  int64_t width, height, channels;
};

void png_read_bytes(png_structp png, png_bytep out, png_size_t length) {
  auto* s = static_cast<PngState*>(png_get_io_ptr(png));
  if (s->bytes->size() - s->at < length) png_error(png, "truncated PNG data");
  std::memcpy(out, s->bytes->data() + s->at, length);
  s->at += length;
}

void png_fail(png_structp png, png_const_charp message) {
  auto* s = static_cast<PngState*>(png_get_error_ptr(png));
  if (s->message[0] == '\0') std::snprintf(s->message, sizeof s->message, "%s", message);
  png_longjmp(png, 1);
}

void png_ignore_warning(png_structp, png_const_charp) {}

// Decodes into s->pixels; false with s->message set when libpng refuses the data.
bool png_decode_raw(PngState* s) {
  png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, s, png_fail, png_ignore_warning);
  if (!png) return std::snprintf(s->message, sizeof s->message, "cannot start PNG decoding"), false;
  png_infop info = png_create_info_struct(png);
  if (setjmp(png_jmpbuf(png))) {
    png_destroy_read_struct(&png, &info, nullptr);
    std::free(s->rows);
    s->rows = nullptr;
    return false;
  }
  if (!info) png_error(png, "cannot start PNG decoding");
  png_set_read_fn(png, s, png_read_bytes);
  png_set_user_limits(png, 1u << 24, 1u << 24);  // a width or height over 16M is refused in the header
  png_read_info(png, info);
  s->width = static_cast<int64_t>(png_get_image_width(png, info));
  s->height = static_cast<int64_t>(png_get_image_height(png, info));
  if (s->width > s->limits->max_pixels / std::max<int64_t>(s->height, 1)) {
    std::snprintf(s->message, sizeof s->message, "image of %lldx%lld pixels is over data.image.max_pixels (%lld)",
                  static_cast<long long>(s->width), static_cast<long long>(s->height),
                  static_cast<long long>(s->limits->max_pixels));
    png_error(png, "too large");
  }
  const int color = png_get_color_type(png, info);
  if (png_get_bit_depth(png, info) == 16) png_set_strip_16(png);
  if (color == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
  if (color == PNG_COLOR_TYPE_GRAY && png_get_bit_depth(png, info) < 8) png_set_expand_gray_1_2_4_to_8(png);
  if (png_get_valid(png, info, PNG_INFO_tRNS)) png_set_tRNS_to_alpha(png);
  png_set_strip_alpha(png);
  png_set_interlace_handling(png);
  png_read_update_info(png, info);
  s->channels = static_cast<int64_t>(png_get_channels(png, info));
  const auto row_bytes = static_cast<size_t>(s->width * s->channels);
  s->pixels = static_cast<unsigned char*>(std::malloc(row_bytes * static_cast<size_t>(s->height)));
  s->rows = static_cast<png_bytep*>(std::malloc(sizeof(png_bytep) * static_cast<size_t>(s->height)));
  if (!s->pixels || !s->rows) png_error(png, "out of memory for the pixels");
  for (int64_t y = 0; y < s->height; ++y) s->rows[y] = s->pixels + static_cast<size_t>(y) * row_bytes;
  png_read_image(png, s->rows);
  png_read_end(png, nullptr);
  png_destroy_read_struct(&png, &info, nullptr);
  std::free(s->rows);
  s->rows = nullptr;
  return true;
}

DecodeResult decode_png(const std::string& bytes, int64_t channels, const DecodeLimits& limits) {
  PngState s{&bytes, 0, &limits, {}, nullptr, nullptr, 0, 0, 0};
  const bool ok = png_decode_raw(&s);
  std::unique_ptr<unsigned char, void (*)(void*)> pixels(s.pixels, std::free);
  if (!ok) {
    const std::string message = s.message;
    if (message.rfind("image of", 0) == 0) return failed(message);
    return failed("corrupt or truncated PNG data (" + message + ")");
  }
  Image image{s.height, s.width, s.channels,
              std::vector<uint8_t>(pixels.get(), pixels.get() + s.width * s.height * s.channels)};
  return {convert(std::move(image), channels), ""};
}

DecodeResult decode_webp(const std::string& bytes, int64_t channels, const DecodeLimits& limits) {
  int width = 0, height = 0;
  auto* data = reinterpret_cast<const uint8_t*>(bytes.data());
  if (!WebPGetInfo(data, bytes.size(), &width, &height)) return failed("corrupt WebP header");
  if (auto problem = too_large(width, height, limits)) return failed(*problem);
  Image image{height, width, 3, std::vector<uint8_t>(static_cast<size_t>(width) * height * 3)};
  if (!WebPDecodeRGBInto(data, bytes.size(), image.pixels.data(), image.pixels.size(), width * 3)) {
    return failed("corrupt or truncated WebP data");
  }
  return {convert(std::move(image), channels), ""};
}

}  // namespace

std::string image_format(const std::string& bytes) {
  const auto at = [&](size_t i) { return static_cast<unsigned char>(bytes[i]); };
  if (bytes.size() >= 3 && at(0) == 0xFF && at(1) == 0xD8 && at(2) == 0xFF) return "jpeg";
  if (bytes.size() >= 8 && bytes.compare(0, 8, "\x89PNG\r\n\x1a\n") == 0) return "png";
  if (bytes.size() >= 12 && bytes.compare(0, 4, "RIFF") == 0 && bytes.compare(8, 4, "WEBP") == 0) return "webp";
  return "";
}

DecodeResult decode_image(const std::string& bytes, int64_t channels, const DecodeLimits& limits) {
  if (bytes.empty()) return failed("empty file (0 bytes)");
  const std::string format = image_format(bytes);
  if (format == "jpeg") return decode_jpeg(bytes, channels, limits);
  if (format == "png") return decode_png(bytes, channels, limits);
  if (format == "webp") return decode_webp(bytes, channels, limits);
  return failed("not a JPEG, PNG or WebP image (unknown leading bytes)");
}

}  // namespace stratum::data
