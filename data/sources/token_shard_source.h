#pragma once
// source: token_shards — a folder `stratum data prepare` wrote, read through memory maps.

#include "data/data_options.h"
#include "data/split_data.h"

namespace stratum::data {

/// `data.path` is the shard folder (shards.json and its shards). Every shard's size, header
/// and sha256 are checked against shards.json, and the configured tokenizer against the one
/// the shards were made with. The splits are TokenWindows of `data.text.max_length` tokens
/// (see data/token_shards/token_windows.h) packed by `data.pack`; a replica of a sharded
/// stream gets every world_size-th window of the seen split.
SplitData read_token_shard_source(const DataOptions& options, const DataContext& context);

}  // namespace stratum::data
