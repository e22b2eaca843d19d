#pragma once
// source: webdataset — POSIX tar shards as WebDataset writes them: the members of one sample
// share a key (the name up to the first dot of its file name) and sit next to each other; an
// image member (.jpg / .jpeg / .png / .webp) and a label member (.cls: a class number, the
// class id, named by data.labels when given; .txt: a class name; .json: an object with a
// "label") make one record. Read with libarchive.

#include "data/data_options.h"
#include "data/split_data.h"

namespace stratum::data {

/// Reads the shards `options.path` names (a file, a glob or a {000..099} range) in an order
/// shuffled by the run seed; with a sharded stream each rank reads every world-size-th shard.
SplitData read_webdataset_source(const DataOptions& options, const DataContext& context);

}  // namespace stratum::data
