#include "data/images/resample.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "core/error.h"

namespace stratum::data {
namespace {

constexpr int kPrecisionBits = 32 - 8 - 2;  // Pillow's fixed point for 8-bit images

// For each output position along one axis: the first input index and the fixed-point weights
// of the inputs it blends (Pillow's precompute_coeffs with the bilinear filter).
struct Coefficients {
  std::vector<int64_t> first, count;
  std::vector<int32_t> weights;  // count.max() per output position
  int64_t stride = 0;
};

Coefficients coefficients(int64_t in_size, int64_t out_size) {
  const double scale = static_cast<double>(in_size) / static_cast<double>(out_size);
  const double filter_scale = std::max(scale, 1.0);
  const double support = 1.0 * filter_scale;
  Coefficients c;
  c.stride = static_cast<int64_t>(std::ceil(support)) * 2 + 1;
  c.first.resize(static_cast<size_t>(out_size));
  c.count.resize(static_cast<size_t>(out_size));
  c.weights.assign(static_cast<size_t>(out_size * c.stride), 0);
  std::vector<double> k(static_cast<size_t>(c.stride));
  for (int64_t out = 0; out < out_size; ++out) {
    const double center = (static_cast<double>(out) + 0.5) * scale;
    const double inverse = 1.0 / filter_scale;
    int64_t lo = static_cast<int64_t>(center - support + 0.5);
    lo = std::max<int64_t>(lo, 0);
    int64_t hi = static_cast<int64_t>(center + support + 0.5);
    hi = std::min(hi, in_size) - lo;
    double total = 0;
    for (int64_t x = 0; x < hi; ++x) {
      const double t = std::abs((static_cast<double>(x + lo) - center + 0.5) * inverse);
      const double w = t < 1.0 ? 1.0 - t : 0.0;
      k[static_cast<size_t>(x)] = w;
      total += w;
    }
    for (int64_t x = 0; x < hi; ++x) {
      const double w = total != 0 ? k[static_cast<size_t>(x)] / total : 0;
      // Pillow rounds half away from zero when converting to fixed point.
      c.weights[static_cast<size_t>(out * c.stride + x)] =
          static_cast<int32_t>(w < 0 ? std::trunc(-0.5 + w * (1 << kPrecisionBits)) : std::trunc(0.5 + w * (1 << kPrecisionBits)));
    }
    c.first[static_cast<size_t>(out)] = lo;
    c.count[static_cast<size_t>(out)] = hi;
  }
  return c;
}

// Sums fit in 32 bits, as in Pillow: 255 x 2^22 plus rounding stays below 2^31.
uint8_t clip8(int32_t value) {
  return static_cast<uint8_t>(std::clamp<int32_t>(value >> kPrecisionBits, 0, 255));
}

constexpr int32_t kInitial = int32_t{1} << (kPrecisionBits - 1);

// Along the width: each output pixel blends a contiguous run of input pixels of its row.
Image resample_horizontal(const Image& in, int64_t out_size) {
  const int64_t channels = in.channels;
  const Coefficients c = coefficients(in.width, out_size);
  Image out{in.height, out_size, channels, std::vector<uint8_t>(static_cast<size_t>(in.height * out_size * channels))};
  for (int64_t y = 0; y < in.height; ++y) {
    const uint8_t* row = &in.pixels[static_cast<size_t>(y * in.width * channels)];
    uint8_t* target = &out.pixels[static_cast<size_t>(y * out_size * channels)];
    for (int64_t x = 0; x < out_size; ++x) {
      const int32_t* w = &c.weights[static_cast<size_t>(x * c.stride)];
      const int64_t count = c.count[static_cast<size_t>(x)];
      const uint8_t* p = row + c.first[static_cast<size_t>(x)] * channels;
      if (channels == 3) {
        int32_t r = kInitial, g = kInitial, b = kInitial;
        for (int64_t k = 0; k < count; ++k, p += 3) r += p[0] * w[k], g += p[1] * w[k], b += p[2] * w[k];
        target[x * 3] = clip8(r), target[x * 3 + 1] = clip8(g), target[x * 3 + 2] = clip8(b);
      } else {
        for (int64_t ch = 0; ch < channels; ++ch) {
          int32_t sum = kInitial;
          for (int64_t k = 0; k < count; ++k) sum += p[k * channels + ch] * w[k];
          target[x * channels + ch] = clip8(sum);
        }
      }
    }
  }
  return out;
}

// Along the height: each output row blends whole input rows, accumulated row by row so the
// inner loop runs over contiguous memory.
Image resample_vertical(const Image& in, int64_t out_size) {
  const auto row_size = static_cast<size_t>(in.width * in.channels);
  const Coefficients c = coefficients(in.height, out_size);
  Image out{out_size, in.width, in.channels, std::vector<uint8_t>(static_cast<size_t>(out_size) * row_size)};
  std::vector<int32_t> sums(row_size);
  for (int64_t y = 0; y < out_size; ++y) {
    const int32_t* w = &c.weights[static_cast<size_t>(y * c.stride)];
    const int64_t first = c.first[static_cast<size_t>(y)], count = c.count[static_cast<size_t>(y)];
    std::fill(sums.begin(), sums.end(), kInitial);
    for (int64_t k = 0; k < count; ++k) {
      const uint8_t* row = &in.pixels[static_cast<size_t>(first + k) * row_size];
      const int32_t weight = w[k];
      for (size_t i = 0; i < row_size; ++i) sums[i] += row[i] * weight;
    }
    uint8_t* target = &out.pixels[static_cast<size_t>(y) * row_size];
    for (size_t i = 0; i < row_size; ++i) target[i] = clip8(sums[i]);
  }
  return out;
}

Image resample_axis(const Image& in, int64_t out_size, bool horizontal) {
  return horizontal ? resample_horizontal(in, out_size) : resample_vertical(in, out_size);
}

}  // namespace

Image resize_bilinear(const Image& image, int64_t height, int64_t width) {
  STRATUM_CHECK(height > 0 && width > 0 && image.height > 0 && image.width > 0, "resize to or from an empty image");
  // Pillow shrinks before it grows: the vertical pass comes first when the width grows and the
  // height shrinks, else the horizontal one; a pass whose size is unchanged is skipped. The
  // intermediate image is 8-bit, so the order shows in the last bit.
  if (width > image.width && height < image.height) {
    return resample_axis(resample_axis(image, height, /*horizontal=*/false), width, /*horizontal=*/true);
  }
  Image out = width != image.width ? resample_axis(image, width, /*horizontal=*/true) : image;
  if (height != image.height) out = resample_axis(out, height, /*horizontal=*/false);
  return out;
}

Image resize_shorter_side(const Image& image, int64_t size) {
  const bool wide = image.width >= image.height;
  const int64_t shorter = wide ? image.height : image.width, longer = wide ? image.width : image.height;
  const auto other = static_cast<int64_t>(static_cast<double>(size) * static_cast<double>(longer) / static_cast<double>(shorter));
  if (shorter == size && longer == other) return image;
  return wide ? resize_bilinear(image, size, other) : resize_bilinear(image, other, size);
}

Image crop(const Image& image, int64_t top, int64_t left, int64_t height, int64_t width) {
  STRATUM_CHECK(top >= 0 && left >= 0 && top + height <= image.height && left + width <= image.width,
                "crop window outside the image");
  Image out{height, width, image.channels, std::vector<uint8_t>(static_cast<size_t>(height * width * image.channels))};
  const auto row = static_cast<size_t>(width * image.channels);
  for (int64_t y = 0; y < height; ++y) {
    std::memcpy(&out.pixels[static_cast<size_t>(y) * row],
                &image.pixels[static_cast<size_t>(((top + y) * image.width + left) * image.channels)], row);
  }
  return out;
}

Image center_crop(const Image& image, int64_t height, int64_t width) {
  const auto top = static_cast<int64_t>(std::nearbyint(static_cast<double>(image.height - height) / 2.0));
  const auto left = static_cast<int64_t>(std::nearbyint(static_cast<double>(image.width - width) / 2.0));
  return crop(image, top, left, height, width);
}

Image center_window(const Image& kept, int64_t size) {
  // A kept image's shorter side is data.image.resize >= size, unless the file was smaller.
  if (std::min(kept.height, kept.width) < size) return center_crop(resize_shorter_side(kept, size), size, size);
  return center_crop(kept, size, size);
}

Image flip_horizontal(const Image& image) {
  Image out = image;
  const int64_t c = image.channels;
  for (int64_t y = 0; y < image.height; ++y) {
    for (int64_t x = 0; x < image.width; ++x) {
      std::memcpy(&out.pixels[static_cast<size_t>((y * image.width + x) * c)],
                  &image.pixels[static_cast<size_t>((y * image.width + image.width - 1 - x) * c)], static_cast<size_t>(c));
    }
  }
  return out;
}

}  // namespace stratum::data
