#pragma once
// The IDX image source: an MNIST-style folder (train-* and t10k-* image and label files),
// streamed record by record through the StreamSplitter.

#include "data/data_options.h"
#include "data/split_data.h"

namespace stratum::data {

/// Streams `<path>/train-{images,labels}` through the splitter (validation by content hash,
/// unseen by label or time, the rest into the stratified reservoirs); with `unseen.by: file`
/// `<path>/t10k-*` is the unseen split. Damaged records go to `context.rejects_path` and the
/// error budget is checked.
SplitData read_idx_source(const DataOptions& options, const DataContext& context);

}  // namespace stratum::data
