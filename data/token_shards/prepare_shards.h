#pragma once
// `stratum data prepare`: a text source, tokenized once into token shards on disk, so that
// training reads a corpus of any size through memory maps instead of in-memory reservoirs.

#include <cstdint>
#include <string>

#include "data/data_options.h"
#include "data/token_shards/shard_manifest.h"

namespace stratum::data {

/// Where and how shards are written.
struct PrepareOptions {
  std::string out_dir;
  uint64_t shard_tokens = 100'000'000;  ///< a shard is closed after the document that reaches this
  int workers = 1;                      ///< tokenizing threads; the bytes written do not depend on it
  uint64_t seed = 0;                    ///< the run seed: validation documents are picked by hash with it
  /// When positive, the seen split keeps a uniform sample of at most this many documents per
  /// label (a seeded reservoir per label; memory holds the samples), in their original order.
  int64_t per_label = 0;
};

/// Reads the `text` (lines, jsonl, plain) or `fortunes` source `options` configures, document
/// by document (memory holds one batch of documents, never the corpus), and writes
/// out_dir/{seen,validation,unseen}-NNNNN.bin, rejects.jsonl and shards.json. Each document is
/// its tokens (data.tokenizer.path's BPE, or bytes) followed by the end-of-text token. Split:
/// unseen by data.unseen (label, source, time, none), else validation when the document's
/// content hash with the seed falls under data.validation_fraction (copies go together).
/// With `per_label`, the seen split is stratified: each label's documents are a uniform sample
/// of at most that many. A previous prepare's files in out_dir are replaced; any other file
/// there is refused.
ShardManifest prepare_token_shards(const DataOptions& options, const PrepareOptions& prepare);

}  // namespace stratum::data
