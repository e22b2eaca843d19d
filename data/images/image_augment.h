#pragma once
// The transformations between a kept image and a training or evaluation example: the
// evaluation geometry (center crop), the configured random augmentations of training
// examples, and normalization to float tensors.

#include <cstdint>
#include <vector>

#include "data/data_options.h"
#include "data/images/image_decode.h"
#include "data/rng.h"

namespace stratum::data {

/// Turns kept images into examples: channels x size x size floats, standardized, written to
/// the caller's memory (plain loops: it runs on the loader's worker threads).
class ImageTransform {
 public:
  /// `mean` / `std`: per channel, of [0, 1] pixels.
  ImageTransform(const ImageOptions& options, std::vector<float> mean, std::vector<float> std);

  /// Floats per example.
  int64_t example_size() const { return options_.channels * options_.size * options_.size; }

  /// The evaluation example: the centered size x size window, normalized, into `out`.
  void evaluation(const Image& kept, float* out) const;

  /// A training example: the configured augmentations in order, each drawing from `rng`.
  void training(const Image& kept, Rng& rng, float* out) const;

 private:
  void normalize(const Image& image, float* out) const;
  Image random_resized_crop(const Image& image, Rng& rng) const;

  ImageOptions options_;
  std::vector<float> mean_, std_;
};

/// The (seed, epoch, index) stream of one example's augmentation.
inline Rng augmentation_rng(uint64_t seed, int64_t epoch, int64_t index) {
  return Rng(seed, splitmix64(static_cast<uint64_t>(epoch) * 0x9E3779B97F4A7C15ull + static_cast<uint64_t>(index)));
}

}  // namespace stratum::data
