#include "data/images/image_augment.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "data/images/rand_augment.h"
#include "data/images/resample.h"

namespace stratum::data {

ImageTransform::ImageTransform(const ImageOptions& options, std::vector<float> mean, std::vector<float> std)
    : options_(options), mean_(std::move(mean)), std_(std::move(std)) {
  const auto channels = static_cast<size_t>(options.channels);
  STRATUM_CHECK(mean_.size() == channels && std_.size() == channels, "one mean and deviation per channel");
}

// HWC bytes to CHW standardized floats.
void ImageTransform::normalize(const Image& image, float* out) const {
  const int64_t plane = image.height * image.width, c = image.channels;
  for (int64_t ch = 0; ch < c; ++ch) {
    const float scale = 1.0f / (255.0f * std_[static_cast<size_t>(ch)]);
    const float shift = mean_[static_cast<size_t>(ch)] / std_[static_cast<size_t>(ch)];
    for (int64_t i = 0; i < plane; ++i) out[ch * plane + i] = static_cast<float>(image.pixels[static_cast<size_t>(i * c + ch)]) * scale - shift;
  }
}

void ImageTransform::evaluation(const Image& kept, float* out) const { normalize(center_window(kept, options_.size), out); }

// torchvision's RandomResizedCrop: ten tries at a window of random area share and aspect ratio
// (log-uniform) that fits, then the centered window of the ratio closest to allowed.
Image ImageTransform::random_resized_crop(const Image& image, Rng& rng) const {
  const double area = static_cast<double>(image.height * image.width);
  const double lo = options_.crop_scale[0], hi = options_.crop_scale[1];
  const double log_lo = std::log(options_.crop_ratio[0]), log_hi = std::log(options_.crop_ratio[1]);
  for (int attempt = 0; attempt < 10; ++attempt) {
    const double target = area * (lo + (hi - lo) * rng.uniform());
    const double ratio = std::exp(log_lo + (log_hi - log_lo) * rng.uniform());
    // Compared as doubles first: an extreme configured ratio gives sizes no integer holds.
    const double wd = std::nearbyint(std::sqrt(target * ratio)), hd = std::nearbyint(std::sqrt(target / ratio));
    if (wd >= 1 && hd >= 1 && wd <= static_cast<double>(image.width) && hd <= static_cast<double>(image.height)) {
      const auto w = static_cast<int64_t>(wd), h = static_cast<int64_t>(hd);
      const auto top = static_cast<int64_t>(rng.below(static_cast<uint64_t>(image.height - h + 1)));
      const auto left = static_cast<int64_t>(rng.below(static_cast<uint64_t>(image.width - w + 1)));
      return resize_bilinear(crop(image, top, left, h, w), options_.size, options_.size);
    }
  }
  const double in_ratio = static_cast<double>(image.width) / static_cast<double>(image.height);
  double w = static_cast<double>(image.width), h = static_cast<double>(image.height);
  if (in_ratio < options_.crop_ratio[0]) {
    h = std::nearbyint(w / options_.crop_ratio[0]);
  } else if (in_ratio > options_.crop_ratio[1]) {
    w = std::nearbyint(h * options_.crop_ratio[1]);
  }
  const auto fit = [](double v, int64_t limit) { return static_cast<int64_t>(std::clamp(v, 1.0, static_cast<double>(limit))); };
  return resize_bilinear(center_crop(image, fit(h, image.height), fit(w, image.width)), options_.size, options_.size);
}

namespace {

// Color work on [0, 1] floats, as torchvision's adjust_brightness / contrast / saturation on
// tensors: a blend with black, with the gray image's mean, with the gray image.
void jitter_colors(std::vector<float>& pixels, int64_t channels, int64_t plane, double b, double c, double s) {
  const auto clamp01 = [](double v) { return static_cast<float>(std::clamp(v, 0.0, 1.0)); };
  const auto gray_at = [&](int64_t i) {
    return channels == 3 ? 0.299 * pixels[static_cast<size_t>(i)] + 0.587 * pixels[static_cast<size_t>(plane + i)] +
                               0.114 * pixels[static_cast<size_t>(2 * plane + i)]
                         : static_cast<double>(pixels[static_cast<size_t>(i)]);
  };
  for (float& v : pixels) v = clamp01(v * b);
  double mean = 0;
  for (int64_t i = 0; i < plane; ++i) mean += gray_at(i);
  mean /= static_cast<double>(plane);
  for (float& v : pixels) v = clamp01(c * v + (1 - c) * mean);
  if (channels != 3) return;
  for (int64_t i = 0; i < plane; ++i) {
    const double g = gray_at(i);
    for (int64_t ch = 0; ch < 3; ++ch) {
      float& v = pixels[static_cast<size_t>(ch * plane + i)];
      v = clamp01(s * v + (1 - s) * g);
    }
  }
}

}  // namespace

void ImageTransform::training(const Image& kept, Rng& rng, float* out) const {
  const auto& ops = options_.augment;
  const bool crops = std::find(ops.begin(), ops.end(), ImageAugmentation::random_resized_crop) != ops.end();
  // Without a random crop, training examples start from the evaluation window.
  Image image = crops ? kept : center_window(kept, options_.size);
  for (const ImageAugmentation op : ops) {
    if (op == ImageAugmentation::random_resized_crop) image = random_resized_crop(image, rng);
    if (op == ImageAugmentation::horizontal_flip && rng.uniform() < options_.flip_probability) image = flip_horizontal(image);
    if (op == ImageAugmentation::rand_augment) {
      image = rand_augment(image, static_cast<int>(options_.rand_augment_ops), static_cast<int>(options_.rand_augment_magnitude),
                           static_cast<int>(options_.rand_augment_bins), rng);
    }
    if (op == ImageAugmentation::color_jitter) break;  // the float stage below
  }
  const bool jitter = std::find(ops.begin(), ops.end(), ImageAugmentation::color_jitter) != ops.end();
  if (!jitter) return normalize(image, out);
  const int64_t plane = image.height * image.width, c = image.channels;
  std::vector<float> pixels(static_cast<size_t>(plane * c));
  for (int64_t ch = 0; ch < c; ++ch) {
    for (int64_t i = 0; i < plane; ++i) pixels[static_cast<size_t>(ch * plane + i)] = image.pixels[static_cast<size_t>(i * c + ch)] / 255.0f;
  }
  const auto factor = [&](double amount) { return std::max(0.0, 1 - amount + 2 * amount * rng.uniform()); };
  const double b = factor(options_.brightness), k = factor(options_.contrast), s = factor(options_.saturation);
  jitter_colors(pixels, c, plane, b, k, s);
  // Operations listed after color_jitter (a flip) apply to the jittered floats.
  bool after = false;
  for (const ImageAugmentation op : ops) {
    if (op == ImageAugmentation::color_jitter) after = true;
    if (after && op == ImageAugmentation::horizontal_flip && rng.uniform() < options_.flip_probability) {
      for (int64_t ch = 0; ch < c; ++ch) {
        for (int64_t y = 0; y < image.height; ++y) {
          float* row = &pixels[static_cast<size_t>(ch * plane + y * image.width)];
          std::reverse(row, row + image.width);
        }
      }
    }
  }
  for (int64_t ch = 0; ch < c; ++ch) {
    const float m = mean_[static_cast<size_t>(ch)], sd = std_[static_cast<size_t>(ch)];
    for (int64_t i = 0; i < plane; ++i) out[ch * plane + i] = (pixels[static_cast<size_t>(ch * plane + i)] - m) / sd;
  }
}

}  // namespace stratum::data
