#pragma once
// source: image_list — a CSV or JSONL file listing images and their labels, one row each:
// paths relative to the list file, a label (or, in JSONL, a list of labels: multi-label).

#include "data/data_options.h"
#include "data/split_data.h"

namespace stratum::data {

/// Reads the list at `options.path` (CSV or JSONL, gzip / zstd too) and the images it names.
/// A row whose image is missing, unreadable or bad, or whose label is empty, is rejected with
/// its line.
SplitData read_image_list_source(const DataOptions& options, const DataContext& context);

}  // namespace stratum::data
