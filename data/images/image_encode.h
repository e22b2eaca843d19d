#pragma once
// 8-bit images encoded as PNG with libpng behind this wall (for previews of what training
// sees), and many images tiled into one grid.

#include <cstdint>
#include <string>
#include <vector>

#include "data/images/image_decode.h"

namespace stratum::data {

/// `image` (1 or 3 channels) as PNG file bytes.
std::string encode_png(const Image& image);

/// `images` (same channels; sizes may differ) in rows of `columns` cells, each cell as large as
/// the largest image, `gap` pixels of `background` between cells and around the grid.
Image tile_images(const std::vector<Image>& images, int64_t columns, int64_t gap, uint8_t background = 255);

}  // namespace stratum::data
