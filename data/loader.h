#pragma once
// Feeds the trainer: batches of one split in a seeded order per epoch, gathered on a
// background thread into a bounded queue so the model never waits on collation.

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <memory>
#include <mutex>
#include <thread>

#include "core/batch.h"
#include "data/mixing/mix_schedule.h"
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
  /// Several sources (SplitData::mix): each example's source is drawn by share, then the
  /// source's next example in its own shuffled pass (a source that runs out starts another).
  std::vector<MixComponent> mix{};
  /// Gather batches into page-locked memory (training on a GPU: their copy is then asynchronous).
  bool pin_memory = false;
};

/// An endless stream of shuffled batches over `dataset`: epoch e visits every example once in
/// the order of a permutation drawn from (seed, e), the last batch of an epoch may be short.
/// With a mix, an epoch is as many examples, drawn from the sources by share (MixSchedule).
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

  /// With a mix: examples of the batches returned so far (whole global batches) per source.
  const std::vector<int64_t>& mix_counts() const { return consumed_; }

 private:
  struct Item {
    Batch batch;
    int64_t epoch;
    std::vector<int64_t> from_source;  // with a mix: the global batch's examples per source
  };
  Item produce();
  void start_epoch(int64_t epoch);
  void draw_mixed_epoch();
  void run();

  const TensorDataset& dataset_;
  LoaderOptions options_;
  std::vector<int64_t> order_;
  int64_t produce_epoch_ = 0;
  size_t cursor_ = 0;
  int64_t epoch_ = 0;
  // A mix: the schedule and, per source, its pass, its position in it and the pass's order.
  std::unique_ptr<MixSchedule> schedule_;
  std::vector<int64_t> passes_;
  std::vector<size_t> positions_;
  std::vector<std::vector<int64_t>> pass_orders_;
  std::vector<size_t> source_of_;  // per example of the epoch's order: its source
  std::vector<int64_t> consumed_;

  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<Item> queue_;
  std::exception_ptr error_;
  bool stop_ = false;
  std::thread worker_;
};

}  // namespace stratum::data
