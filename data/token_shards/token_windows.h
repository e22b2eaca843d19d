#pragma once
// Training examples cut from one split's token shards on demand: nothing of the corpus is
// held in memory beyond the window being copied.

#include <cstdint>
#include <memory>
#include <vector>

#include "data/data_options.h"
#include "data/tensor_dataset.h"
#include "data/token_shards/token_shard.h"

namespace stratum::data {

/// The windows of one split's shards, read as one token stream in shard order: window i holds
/// tokens [i·T, i·T + T], its inputs the first T and its targets the last T, so every token of
/// the stream but the first is predicted once (nanoGPT's x / y). With Pack::documents the batch
/// carries segments (each token's document within its row) and targets that would cross into
/// the next document are -100 (not scored). A replica of a sharded stream sees windows rank,
/// rank + world, ... only.
class TokenWindows : public ExampleStore {
 public:
  TokenWindows(std::vector<std::shared_ptr<const TokenShard>> shards, int64_t length, Pack pack, int64_t rank = 0,
               int64_t world = 1);

  int64_t size() const override { return size_; }
  Batch gather(const torch::Tensor& indices) const override;

  uint64_t stream_tokens() const { return starts_.back(); }
  /// Windows of the whole stream (all replicas').
  int64_t windows() const { return windows_; }
  /// Tokens after the last window (fewer than T): never trained on.
  uint64_t unused_tokens() const;

 private:
  /// Copies stream tokens [begin, begin + count), which may span shards.
  void copy(uint64_t begin, uint64_t count, int64_t* out) const;
  /// The stream-wide document number of each of those tokens.
  void number_documents(uint64_t begin, uint64_t count, int64_t* out) const;
  size_t shard_of(uint64_t position) const;

  std::vector<std::shared_ptr<const TokenShard>> shards_;
  std::vector<uint64_t> starts_;           ///< each shard's first stream position, then the total
  std::vector<uint64_t> document_starts_;  ///< each shard's first document number
  int64_t length_;
  Pack pack_;
  int64_t rank_, world_;
  int64_t windows_ = 0, size_ = 0;
};

}  // namespace stratum::data
