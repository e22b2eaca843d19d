#include "data/images/rand_augment.h"

#include <algorithm>
#include <array>
#include <cmath>

namespace stratum::data {
namespace {

constexpr double kPi = 3.14159265358979323846;

// Arithmetic is float32 where torchvision's is (uint8 tensors promote to float32), so pixels
// agree with it: products and sums in float, then a truncating cast back to 8 bits.
uint8_t to_byte(float v) { return static_cast<uint8_t>(std::clamp(v, 0.0f, 255.0f)); }

// torchvision's _blend: ratio * image + (1 - ratio) * other, clamped and truncated.
template <class Other>
Image blend(const Image& image, double ratio, Other other) {
  const auto r = static_cast<float>(ratio), q = static_cast<float>(1.0 - ratio);
  Image out = image;
  for (size_t i = 0; i < out.pixels.size(); ++i) out.pixels[i] = to_byte(r * static_cast<float>(image.pixels[i]) + q * other(i));
  return out;
}

// rgb_to_grayscale on uint8: 0.2989 R + 0.587 G + 0.114 B in float32, truncated.
std::vector<uint8_t> gray(const Image& image) {
  const size_t n = static_cast<size_t>(image.height * image.width);
  std::vector<uint8_t> out(n);
  for (size_t i = 0; i < n; ++i) {
    const uint8_t* p = &image.pixels[i * 3];
    out[i] = static_cast<uint8_t>(0.2989f * static_cast<float>(p[0]) + 0.587f * static_cast<float>(p[1]) +
                                  0.114f * static_cast<float>(p[2]));
  }
  return out;
}

Image contrast(const Image& image, double factor) {
  const size_t n = static_cast<size_t>(image.height * image.width);
  double sum = 0;
  if (image.channels == 3) {
    for (uint8_t g : gray(image)) sum += g;
  } else {
    for (uint8_t v : image.pixels) sum += v;
  }
  const auto mean = static_cast<float>(sum / static_cast<double>(image.channels == 3 ? n : image.pixels.size()));
  return blend(image, factor, [&](size_t) { return mean; });
}

Image saturation(const Image& image, double factor) {
  if (image.channels != 3) return image;
  const std::vector<uint8_t> g = gray(image);
  return blend(image, factor, [&](size_t i) { return static_cast<float>(g[i / 3]); });
}

// Blend with the image smoothed by [[1 1 1] [1 5 1] [1 1 1]] / 13 (borders kept), as
// adjust_sharpness and Pillow's ImageEnhance.Sharpness.
Image sharpness(const Image& image, double factor) {
  const int64_t h = image.height, w = image.width, c = image.channels;
  if (h <= 2 || w <= 2) return image;
  const float edge = 1.0f / 13.0f, centre = 5.0f / 13.0f;
  Image smooth = image;
  for (int64_t y = 1; y + 1 < h; ++y) {
    for (int64_t x = 1; x + 1 < w; ++x) {
      for (int64_t ch = 0; ch < c; ++ch) {
        float s = 0;
        for (int64_t dy = -1; dy <= 1; ++dy) {
          for (int64_t dx = -1; dx <= 1; ++dx) {
            const float weight = dy == 0 && dx == 0 ? centre : edge;
            s += weight * static_cast<float>(image.pixels[static_cast<size_t>(((y + dy) * w + x + dx) * c + ch)]);
          }
        }
        smooth.pixels[static_cast<size_t>((y * w + x) * c + ch)] = static_cast<uint8_t>(std::clamp(std::nearbyint(s), 0.0f, 255.0f));
      }
    }
  }
  return blend(image, factor, [&](size_t i) { return static_cast<float>(smooth.pixels[i]); });
}

Image auto_contrast(const Image& image) {
  const int64_t c = image.channels;
  Image out = image;
  for (int64_t ch = 0; ch < c; ++ch) {
    uint8_t lo = 255, hi = 0;
    for (size_t i = static_cast<size_t>(ch); i < image.pixels.size(); i += static_cast<size_t>(c)) {
      lo = std::min(lo, image.pixels[i]), hi = std::max(hi, image.pixels[i]);
    }
    // Python's 255 / tensor is reciprocal(tensor) * 255: rounded twice, as here.
    float minimum = lo, scale = (1.0f / (static_cast<float>(hi) - static_cast<float>(lo))) * 255.0f;
    if (!std::isfinite(scale)) minimum = 0, scale = 1;
    for (size_t i = static_cast<size_t>(ch); i < image.pixels.size(); i += static_cast<size_t>(c)) {
      out.pixels[i] = to_byte((static_cast<float>(image.pixels[i]) - minimum) * scale);
    }
  }
  return out;
}

// Per channel, as torchvision's _scale_channel (and Pillow's ImageOps.equalize).
Image equalize(const Image& image) {
  const int64_t c = image.channels;
  Image out = image;
  for (int64_t ch = 0; ch < c; ++ch) {
    std::array<int64_t, 256> histogram{};
    for (size_t i = static_cast<size_t>(ch); i < image.pixels.size(); i += static_cast<size_t>(c)) ++histogram[image.pixels[i]];
    // The step leaves out the last occupied level.
    int64_t total = 0, last = 0;
    for (int64_t count : histogram) {
      if (count != 0) total += count, last = count;
    }
    const int64_t step = (total - last) / 255;
    if (step == 0) continue;
    std::array<uint8_t, 256> table{};
    int64_t cumulative = 0;
    for (int k = 0; k < 256; ++k) {
      table[static_cast<size_t>(k)] = static_cast<uint8_t>(std::min<int64_t>(255, (cumulative + step / 2) / step));
      cumulative += histogram[static_cast<size_t>(k)];
    }
    for (size_t i = static_cast<size_t>(ch); i < image.pixels.size(); i += static_cast<size_t>(c)) out.pixels[i] = table[image.pixels[i]];
  }
  return out;
}

// torchvision's _get_inverse_affine_matrix: output pixel -> input pixel, about `center`
// (relative to the image's middle), for rotation `angle`, translation and shear in degrees.
std::array<double, 6> inverse_affine(double cx, double cy, double angle, double tx, double ty, double shear_x, double shear_y) {
  const double rot = angle * kPi / 180, sx = shear_x * kPi / 180, sy = shear_y * kPi / 180;
  const double a = std::cos(rot - sy) / std::cos(sy);
  const double b = -std::cos(rot - sy) * std::tan(sx) / std::cos(sy) - std::sin(rot);
  const double c = std::sin(rot - sy) / std::cos(sy);
  const double d = -std::sin(rot - sy) * std::tan(sx) / std::cos(sy) + std::cos(rot);
  std::array<double, 6> m = {d, -b, 0.0, -c, a, 0.0};
  m[2] += m[0] * (-cx - tx) + m[1] * (-cy - ty);
  m[5] += m[3] * (-cx - tx) + m[4] * (-cy - ty);
  m[2] += cx;
  m[5] += cy;
  return m;
}

// Samples `image` through `m` as grid_sample(mode="nearest", align_corners=False) does after
// torchvision's _gen_affine_grid, in float32 like it; outside the image is black.
Image warp(const Image& image, const std::array<double, 6>& m) {
  const int64_t h = image.height, w = image.width, c = image.channels;
  const float half_w = static_cast<float>(0.5 * static_cast<double>(w)), half_h = static_cast<float>(0.5 * static_cast<double>(h));
  std::array<float, 6> t{};
  for (size_t k = 0; k < 6; ++k) t[k] = static_cast<float>(m[k]);
  const float r00 = t[0] / half_w, r10 = t[1] / half_w, r20 = t[2] / half_w;
  const float r01 = t[3] / half_h, r11 = t[4] / half_h, r21 = t[5] / half_h;
  Image out{h, w, c, std::vector<uint8_t>(image.pixels.size(), 0)};
  for (int64_t y = 0; y < h; ++y) {
    const float by = static_cast<float>(y) - half_h + 0.5f;
    for (int64_t x = 0; x < w; ++x) {
      const float bx = static_cast<float>(x) - half_w + 0.5f;
      const float gx = bx * r00 + by * r10 + r20, gy = bx * r01 + by * r11 + r21;
      const float ix = ((gx + 1.0f) * static_cast<float>(w) - 1.0f) / 2.0f;
      const float iy = ((gy + 1.0f) * static_cast<float>(h) - 1.0f) / 2.0f;
      const float sx = std::nearbyint(ix), sy = std::nearbyint(iy);
      if (!(sx >= 0 && sx < static_cast<float>(w) && sy >= 0 && sy < static_cast<float>(h))) continue;
      const auto from = static_cast<size_t>((static_cast<int64_t>(sy) * w + static_cast<int64_t>(sx)) * c);
      std::copy_n(&image.pixels[from], c, &out.pixels[static_cast<size_t>((y * w + x) * c)]);
    }
  }
  return out;
}

// torch.linspace(start, end, bins)[bin] in float32 (its two-sided formula).
double linspace_at(float start, float end, int bins, int bin) {
  const float step = (end - start) / static_cast<float>(bins - 1);
  return bin < bins / 2 ? start + step * static_cast<float>(bin) : end - step * static_cast<float>(bins - bin - 1);
}

}  // namespace

bool rand_op_signed(RandOp op) {
  switch (op) {
    case RandOp::shear_x: case RandOp::shear_y: case RandOp::translate_x: case RandOp::translate_y: case RandOp::rotate:
    case RandOp::brightness: case RandOp::color: case RandOp::contrast: case RandOp::sharpness:
      return true;
    default:
      return false;
  }
}

double rand_op_magnitude(RandOp op, int bin, int bins, int64_t height, int64_t width) {
  switch (op) {
    case RandOp::shear_x: case RandOp::shear_y: return linspace_at(0.0f, 0.3f, bins, bin);
    case RandOp::translate_x: return linspace_at(0.0f, static_cast<float>(150.0 / 331.0 * static_cast<double>(width)), bins, bin);
    case RandOp::translate_y: return linspace_at(0.0f, static_cast<float>(150.0 / 331.0 * static_cast<double>(height)), bins, bin);
    case RandOp::rotate: return linspace_at(0.0f, 30.0f, bins, bin);
    case RandOp::brightness: case RandOp::color: case RandOp::contrast: case RandOp::sharpness:
      return linspace_at(0.0f, 0.9f, bins, bin);
    case RandOp::posterize:
      return 8 - std::nearbyint(static_cast<float>(bin) / static_cast<float>((bins - 1) / 4.0));
    case RandOp::solarize: return linspace_at(255.0f, 0.0f, bins, bin);
    default: return 0;
  }
}

Image apply_rand_op(const Image& image, RandOp op, double magnitude) {
  const double cx = -0.5 * static_cast<double>(image.width), cy = -0.5 * static_cast<double>(image.height);  // the corner
  const auto degrees = [](double m) { return std::atan(m) * 180 / kPi; };
  switch (op) {
    case RandOp::identity: return image;
    case RandOp::shear_x: return warp(image, inverse_affine(cx, cy, 0, 0, 0, degrees(magnitude), 0));
    case RandOp::shear_y: return warp(image, inverse_affine(cx, cy, 0, 0, 0, 0, degrees(magnitude)));
    case RandOp::translate_x: return warp(image, inverse_affine(0, 0, 0, std::trunc(magnitude), 0, 0, 0));
    case RandOp::translate_y: return warp(image, inverse_affine(0, 0, 0, 0, std::trunc(magnitude), 0, 0));
    case RandOp::rotate: return warp(image, inverse_affine(0, 0, -magnitude, 0, 0, 0, 0));
    case RandOp::brightness: return blend(image, 1 + magnitude, [](size_t) { return 0.0f; });
    case RandOp::color: return saturation(image, 1 + magnitude);
    case RandOp::contrast: return contrast(image, 1 + magnitude);
    case RandOp::sharpness: return sharpness(image, 1 + magnitude);
    case RandOp::posterize: {
      const int bits = std::clamp(static_cast<int>(magnitude), 0, 8);
      const auto mask = static_cast<uint8_t>(0xFF << (8 - bits));
      Image out = image;
      for (uint8_t& v : out.pixels) v &= mask;
      return out;
    }
    case RandOp::solarize: {
      Image out = image;
      for (uint8_t& v : out.pixels) {
        if (static_cast<double>(v) >= magnitude) v = static_cast<uint8_t>(255 - v);
      }
      return out;
    }
    case RandOp::auto_contrast: return auto_contrast(image);
    case RandOp::equalize: return equalize(image);
  }
  return image;
}

Image rand_augment(const Image& image, int ops, int bin, int bins, Rng& rng) {
  Image out = image;
  for (int k = 0; k < ops; ++k) {
    const auto op = static_cast<RandOp>(rng.below(kRandOps));
    double magnitude = rand_op_magnitude(op, bin, bins, out.height, out.width);
    if (rand_op_signed(op) && rng.below(2) == 1) magnitude = -magnitude;
    out = apply_rand_op(out, op, magnitude);
  }
  return out;
}

}  // namespace stratum::data
