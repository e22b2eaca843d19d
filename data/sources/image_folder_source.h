#pragma once
// source: image_folder — ROOT/CLASS/FILE as vision users keep images: class names from the
// folder names (sorted), JPEG / PNG / WebP files decoded as they are read, resized once to
// what training needs, and kept as 8-bit pixels in the reservoirs.

#include "data/data_options.h"
#include "data/split_data.h"

namespace stratum::data {

/// Reads the image folder at `options.path` into the three splits. Unreadable, corrupt,
/// truncated, empty, wrongly named or oversized images are rejected with the reason.
SplitData read_image_folder_source(const DataOptions& options, const DataContext& context);

}  // namespace stratum::data
