#include "data/loader.h"

#include <torch/torch.h>

#include <numeric>

#include "core/error.h"
#include "data/rng.h"

namespace stratum::data {

Loader::Loader(const TensorDataset& dataset, LoaderOptions options)
    : dataset_(dataset), options_(options), order_(static_cast<size_t>(dataset.size())) {
  STRATUM_CHECK(dataset.size() > 0, "a loader needs a non-empty split");
  STRATUM_CHECK(options.batch_size > 0, "batch size must be positive");
  STRATUM_CHECK(options.shard_count > 0 && options.shard_index >= 0 && options.shard_index < options.shard_count,
                "the loader's shard must be one of shard_count");
  // Every epoch has the same number of batches, so the position after `start_batch` batches
  // is known without replaying them.
  const int64_t per_epoch = (dataset.size() + options.batch_size - 1) / options.batch_size;
  start_epoch(options.start_batch / per_epoch);
  cursor_ = static_cast<size_t>((options.start_batch % per_epoch) * options.batch_size);
  epoch_ = produce_epoch_;
  if (options_.prefetch > 0) worker_ = std::thread([this] { run(); });
}

Loader::~Loader() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  changed_.notify_all();
  if (worker_.joinable()) worker_.join();
}

void Loader::start_epoch(int64_t epoch) {
  produce_epoch_ = epoch;
  std::iota(order_.begin(), order_.end(), 0);
  Rng rng(options_.seed, static_cast<uint64_t>(epoch));
  for (size_t i = order_.size(); i > 1; --i) std::swap(order_[i - 1], order_[rng.below(i)]);  // Fisher-Yates
  cursor_ = 0;
}

Loader::Item Loader::produce() {
  if (cursor_ >= order_.size()) start_epoch(produce_epoch_ + 1);
  const size_t end = std::min(order_.size(), cursor_ + static_cast<size_t>(options_.batch_size));
  const int64_t global = static_cast<int64_t>(end - cursor_);
  const int64_t first = global * options_.shard_index / options_.shard_count;
  const int64_t last = global * (options_.shard_index + 1) / options_.shard_count;
  const torch::Tensor index =
      torch::from_blob(order_.data() + cursor_ + first, {last - first}, torch::kInt64);
  Item item{dataset_.gather(index), produce_epoch_};
  cursor_ = end;
  return item;
}

void Loader::run() {
  try {
    while (true) {
      {
        std::unique_lock<std::mutex> lock(mutex_);
        changed_.wait(lock, [this] { return stop_ || static_cast<int64_t>(queue_.size()) < options_.prefetch; });
        if (stop_) return;
      }
      Item item = produce();  // gathered outside the lock
      {
        std::lock_guard<std::mutex> lock(mutex_);
        queue_.push_back(std::move(item));
      }
      changed_.notify_all();
    }
  } catch (...) {
    std::lock_guard<std::mutex> lock(mutex_);
    error_ = std::current_exception();
    changed_.notify_all();
  }
}

Batch Loader::next() {
  if (options_.prefetch == 0) {
    Item item = produce();
    epoch_ = item.epoch;
    return std::move(item.batch);
  }
  std::unique_lock<std::mutex> lock(mutex_);
  changed_.wait(lock, [this] { return !queue_.empty() || error_; });
  if (queue_.empty() && error_) std::rethrow_exception(error_);
  Item item = std::move(queue_.front());
  queue_.pop_front();
  lock.unlock();
  changed_.notify_all();
  epoch_ = item.epoch;
  return std::move(item.batch);
}

}  // namespace stratum::data
