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
  // is known without replaying them (a mix replays its draws, a cheap loop over indices).
  const int64_t per_epoch = (dataset.size() + options.batch_size - 1) / options.batch_size;
  if (!options_.mix.empty()) {
    std::vector<double> shares;
    for (const MixComponent& m : options_.mix) {
      STRATUM_CHECK(m.begin >= 0 && m.begin <= m.end && m.end <= dataset.size(), "mix rows outside the split");
      shares.push_back(m.share);
    }
    schedule_ = std::make_unique<MixSchedule>(shares, options_.seed);
    passes_.assign(shares.size(), -1);
    positions_.assign(shares.size(), 0);
    pass_orders_.assign(shares.size(), {});
    consumed_.assign(shares.size(), 0);
    // Draws continue from one epoch to the next: replay them up to the resumed epoch, counting
    // the examples of the batches already used.
    const int64_t resumed_epoch = options.start_batch / per_epoch;
    for (int64_t e = 0; e <= resumed_epoch; ++e) {
      start_epoch(e);
      const int64_t used = e < resumed_epoch ? dataset.size()
                                             : std::min(dataset.size(), (options.start_batch % per_epoch) * options.batch_size);
      for (int64_t i = 0; i < used; ++i) ++consumed_[source_of_[static_cast<size_t>(i)]];
    }
  } else {
    start_epoch(options.start_batch / per_epoch);
  }
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
  if (schedule_) {
    STRATUM_CHECK(epoch * static_cast<int64_t>(order_.size()) == schedule_->drawn(), "a mix's epochs come in order");
    produce_epoch_ = epoch;
    draw_mixed_epoch();
    cursor_ = 0;
    return;
  }
  produce_epoch_ = epoch;
  std::iota(order_.begin(), order_.end(), 0);
  Rng rng(options_.seed, static_cast<uint64_t>(epoch));
  for (size_t i = order_.size(); i > 1; --i) std::swap(order_[i - 1], order_[rng.below(i)]);  // Fisher-Yates
  cursor_ = 0;
}

// One epoch of a mix: each example's source from the schedule, then that source's next
// example; a source at the end of its pass starts a new one in a fresh order from
// (seed, source, pass).
void Loader::draw_mixed_epoch() {
  source_of_.resize(order_.size());
  for (size_t i = 0; i < order_.size(); ++i) {
    const size_t s = schedule_->next();
    const MixComponent& m = options_.mix[s];
    std::vector<int64_t>& pass = pass_orders_[s];
    if (passes_[s] < 0 || positions_[s] == pass.size()) {
      ++passes_[s];
      pass.resize(static_cast<size_t>(m.end - m.begin));
      std::iota(pass.begin(), pass.end(), m.begin);
      Rng rng(options_.seed ^ splitmix64(0x736f75726365ull + s), static_cast<uint64_t>(passes_[s]));
      for (size_t k = pass.size(); k > 1; --k) std::swap(pass[k - 1], pass[rng.below(k)]);
      positions_[s] = 0;
    }
    order_[i] = pass[positions_[s]++];
    source_of_[i] = s;
  }
}

Loader::Item Loader::produce() {
  if (cursor_ >= order_.size()) start_epoch(produce_epoch_ + 1);
  const size_t end = std::min(order_.size(), cursor_ + static_cast<size_t>(options_.batch_size));
  const int64_t global = static_cast<int64_t>(end - cursor_);
  const int64_t first = global * options_.shard_index / options_.shard_count;
  const int64_t last = global * (options_.shard_index + 1) / options_.shard_count;
  const torch::Tensor index =
      torch::from_blob(order_.data() + cursor_ + first, {last - first}, torch::kInt64);
  Item item{dataset_.gather_training(index, produce_epoch_), produce_epoch_, {}};
  if (options_.pin_memory) item.batch = item.batch.pinned();  // on the loader's thread, off the step's path
  if (schedule_) {
    item.from_source.assign(options_.mix.size(), 0);
    for (size_t i = cursor_; i < end; ++i) ++item.from_source[source_of_[i]];
  }
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
  const auto consume = [this](const Item& item) {
    epoch_ = item.epoch;
    for (size_t s = 0; s < item.from_source.size(); ++s) consumed_[s] += item.from_source[s];
  };
  if (options_.prefetch == 0) {
    Item item = produce();
    consume(item);
    return std::move(item.batch);
  }
  std::unique_lock<std::mutex> lock(mutex_);
  changed_.wait(lock, [this] { return !queue_.empty() || error_; });
  if (queue_.empty() && error_) std::rethrow_exception(error_);
  Item item = std::move(queue_.front());
  queue_.pop_front();
  lock.unlock();
  changed_.notify_all();
  consume(item);
  return std::move(item.batch);
}

}  // namespace stratum::data
