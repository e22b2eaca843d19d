#pragma once
// RandAugment (Cubuk et al., 2019) on 8-bit images, operation for operation as torchvision's
// transforms.RandAugment computes it on uint8 tensors (nearest-neighbour geometry, black fill),
// so a policy tuned with torchvision means the same here.

#include <cstdint>

#include "data/images/image_decode.h"
#include "data/rng.h"

namespace stratum::data {

/// The operations RandAugment draws from, in torchvision's order (the draw picks by index).
enum class RandOp {
  identity, shear_x, shear_y, translate_x, translate_y, rotate, brightness, color, contrast, sharpness,
  posterize, solarize, auto_contrast, equalize
};
constexpr int kRandOps = 14;

/// Whether `op`'s magnitude is negated with probability 1/2.
bool rand_op_signed(RandOp op);

/// `op`'s magnitude at `bin` of `bins` (torchvision's augmentation space for an image of
/// `height` x `width`): shear factor, pixels, degrees, enhancement factor - 1, bits kept, or
/// solarize threshold; 0 for the operations without one.
double rand_op_magnitude(RandOp op, int bin, int bins, int64_t height, int64_t width);

/// `image` (HWC, 1 or 3 channels) transformed by `op` at the signed `magnitude`.
Image apply_rand_op(const Image& image, RandOp op, double magnitude);

/// `ops` operations drawn uniformly with replacement, each at `bin` of `bins` with a random
/// sign where the operation is signed.
Image rand_augment(const Image& image, int ops, int bin, int bins, Rng& rng);

}  // namespace stratum::data
