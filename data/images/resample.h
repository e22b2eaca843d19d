#pragma once
// Geometry of 8-bit images: antialiased bilinear resizing as Pillow computes it (so pixels
// agree with Pillow and torchvision's transforms on PIL images), crops and flips.

#include <cstdint>

#include "data/images/image_decode.h"

namespace stratum::data {

/// `image` resized to `height` × `width` with Pillow's BILINEAR filter: a triangle kernel
/// widened by the scale when shrinking (antialiasing), 22-bit fixed-point weights, the
/// first pass rounded to 8 bits before the second (Pillow's order: see the source).
Image resize_bilinear(const Image& image, int64_t height, int64_t width);

/// The shorter side scaled to `size`, the longer in proportion (torchvision's Resize(size)).
Image resize_shorter_side(const Image& image, int64_t size);

/// The `height` × `width` window at (top, left), which must lie inside the image.
Image crop(const Image& image, int64_t top, int64_t left, int64_t height, int64_t width);

/// The centered `height` × `width` window, offsets rounded half to even (torchvision's
/// CenterCrop); an image smaller than the window is a caller error.
Image center_crop(const Image& image, int64_t height, int64_t width);

/// The evaluation window of a kept image: the centered `size` x `size` crop (the image first
/// scaled up when its shorter side is under `size`).
Image center_window(const Image& kept, int64_t size);

/// Mirrored left to right.
Image flip_horizontal(const Image& image);

}  // namespace stratum::data
