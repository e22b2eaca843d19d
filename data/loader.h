#pragma once
// Feeds the trainer: batches of one split in a seeded order per epoch, gathered on a
// background thread into a bounded queue so the model never waits on collation.

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <mutex>
#include <thread>

#include "core/batch.h"
#include "data/tensor_dataset.h"

namespace stratum::data {

/// Options of a Loader.
struct LoaderOptions {
  int64_t batch_size = 64;
  uint64_t seed = 0;
  int64_t prefetch = 4;  ///< batches prepared ahead (0: gather on the caller's thread)
  int64_t start_batch = 0;  ///< batches already consumed (a resumed run continues mid-epoch)
  /// Data parallelism: `batch_size` is the global batch, and this loader hands out only shard
  /// `shard_index` of `shard_count` (contiguous, sizes differing by at most one) of each.
  int64_t shard_index = 0;
  int64_t shard_count = 1;
};

/// An endless stream of shuffled batches over `dataset`: epoch e visits every example once in
/// the order of a permutation drawn from (seed, e), the last batch of an epoch may be short.
/// The order depends only on the options, never on timing.
class Loader {
 public:
  Loader(const TensorDataset& dataset, LoaderOptions options);
  ~Loader();
  Loader(const Loader&) = delete;
  Loader& operator=(const Loader&) = delete;

  /// The next batch (blocks until it is ready); rethrows any error of the background thread.
  Batch next();

  /// Epoch of the batch `next` last returned (0-based).
  int64_t epoch() const { return epoch_; }

 private:
  struct Item {
    Batch batch;
    int64_t epoch;
  };
  Item produce();
  void start_epoch(int64_t epoch);
  void run();

  const TensorDataset& dataset_;
  LoaderOptions options_;
  std::vector<int64_t> order_;
  int64_t produce_epoch_ = 0;
  size_t cursor_ = 0;
  int64_t epoch_ = 0;

  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<Item> queue_;
  std::exception_ptr error_;
  bool stop_ = false;
  std::thread worker_;
};

}  // namespace stratum::data
