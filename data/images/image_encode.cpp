#include "data/images/image_encode.h"

#include <png.h>

#include <algorithm>
#include <csetjmp>
#include <cstdio>
#include <cstring>

#include "core/error.h"

namespace stratum::data {
namespace {

// libpng's state for one encode. Plain data only: libpng reports errors by longjmp, which must
// not cross objects with destructors; the bytes grow in a malloc'd buffer.
struct PngWriteState {
  unsigned char* data;
  size_t size, capacity;
  bool out_of_memory;
  char message[256];
};

void png_write_bytes(png_structp png, png_bytep bytes, png_size_t length) {
  auto* s = static_cast<PngWriteState*>(png_get_io_ptr(png));
  if (s->size + length > s->capacity) {
    const size_t capacity = std::max(s->capacity * 2, s->size + length);
    auto* grown = static_cast<unsigned char*>(std::realloc(s->data, capacity));
    if (!grown) {
      s->out_of_memory = true;
      png_error(png, "out of memory for the PNG bytes");
    }
    s->data = grown;
    s->capacity = capacity;
  }
  std::memcpy(s->data + s->size, bytes, length);
  s->size += length;
}

void png_flush_nothing(png_structp) {}

void png_write_fail(png_structp png, png_const_charp message) {
  auto* s = static_cast<PngWriteState*>(png_get_error_ptr(png));
  if (s->message[0] == '\0') std::snprintf(s->message, sizeof s->message, "%s", message);
  png_longjmp(png, 1);
}

void png_ignore(png_structp, png_const_charp) {}

bool png_encode_raw(PngWriteState* s, const unsigned char* pixels, int64_t width, int64_t height, int64_t channels) {
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, s, png_write_fail, png_ignore);
  if (!png) return std::snprintf(s->message, sizeof s->message, "cannot start PNG encoding"), false;
  png_infop info = png_create_info_struct(png);
  if (setjmp(png_jmpbuf(png))) {
    png_destroy_write_struct(&png, &info);
    return false;
  }
  if (!info) png_error(png, "cannot start PNG encoding");
  png_set_write_fn(png, s, png_write_bytes, png_flush_nothing);
  png_set_IHDR(png, info, static_cast<png_uint_32>(width), static_cast<png_uint_32>(height), 8,
               channels == 1 ? PNG_COLOR_TYPE_GRAY : PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
               PNG_FILTER_TYPE_DEFAULT);
  png_write_info(png, info);
  const auto row_bytes = static_cast<size_t>(width * channels);
  for (int64_t y = 0; y < height; ++y) png_write_row(png, pixels + static_cast<size_t>(y) * row_bytes);
  png_write_end(png, nullptr);
  png_destroy_write_struct(&png, &info);
  return true;
}

}  // namespace

std::string encode_png(const Image& image) {
  STRATUM_CHECK(image.channels == 1 || image.channels == 3, "PNG encoding takes 1 or 3 channels");
  STRATUM_CHECK(image.width > 0 && image.height > 0 &&
                    image.pixels.size() == static_cast<size_t>(image.width * image.height * image.channels),
                "image of the wrong size for PNG encoding");
  PngWriteState s{nullptr, 0, 0, false, {}};
  const bool ok = png_encode_raw(&s, image.pixels.data(), image.width, image.height, image.channels);
  std::string bytes = ok ? std::string(reinterpret_cast<const char*>(s.data), s.size) : std::string();
  std::free(s.data);
  if (!ok) throw UserError(std::string("cannot encode a PNG: ") + s.message);
  return bytes;
}

Image tile_images(const std::vector<Image>& images, int64_t columns, int64_t gap, uint8_t background) {
  STRATUM_CHECK(!images.empty() && columns > 0 && gap >= 0, "nothing to tile");
  int64_t cell_h = 0, cell_w = 0;
  const int64_t channels = images.front().channels;
  for (const Image& image : images) {
    STRATUM_CHECK(image.channels == channels, "tiled images differ in channels");
    cell_h = std::max(cell_h, image.height), cell_w = std::max(cell_w, image.width);
  }
  const auto count = static_cast<int64_t>(images.size());
  const int64_t cols = std::min(columns, count), rows = (count + cols - 1) / cols;
  Image grid;
  grid.channels = channels;
  grid.width = cols * cell_w + (cols + 1) * gap;
  grid.height = rows * cell_h + (rows + 1) * gap;
  grid.pixels.assign(static_cast<size_t>(grid.width * grid.height * channels), background);
  for (int64_t i = 0; i < count; ++i) {
    const Image& image = images[static_cast<size_t>(i)];
    const int64_t top = gap + (i / cols) * (cell_h + gap), left = gap + (i % cols) * (cell_w + gap);
    for (int64_t y = 0; y < image.height; ++y) {
      std::memcpy(grid.pixels.data() + static_cast<size_t>(((top + y) * grid.width + left) * channels),
                  image.pixels.data() + static_cast<size_t>(y * image.width * channels),
                  static_cast<size_t>(image.width * channels));
    }
  }
  return grid;
}

}  // namespace stratum::data
