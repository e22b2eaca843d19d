#include "data/images/decode_batch.h"

#include <algorithm>

#include "core/parallel_ranges.h"
#include "data/images/image_records.h"

namespace stratum::data {

DecodeBatch::DecodeBatch(const ImageOptions& options, int64_t workers, int64_t per_worker)
    : options_(options),
      workers_(std::max<int64_t>(1, workers)),
      capacity_(static_cast<size_t>(std::max<int64_t>(1, workers_ * per_worker))) {}

DecodeBatch::~DecodeBatch() {
  if (decoding_.valid()) decoding_.wait();
}

bool DecodeBatch::add(std::string bytes, std::string name, Continuation then) {
  return queue({std::move(bytes), std::move(name), std::nullopt, Record{}, std::move(then)});
}

bool DecodeBatch::add_rejected(std::string problem, Continuation then) {
  return queue({{}, {}, std::move(problem), Record{}, std::move(then)});
}

bool DecodeBatch::queue(Item item) {
  if (stopped_) return false;
  items_.push_back(std::move(item));
  if (items_.size() < capacity_) return true;
  if (!finish_pending()) return false;
  start_pending();
  return true;
}

void DecodeBatch::start_pending() {
  pending_ = std::move(items_);
  items_.clear();
  decoding_ = std::async(std::launch::async, [this] {
    parallel_ranges(static_cast<int64_t>(pending_.size()), workers_, [this](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) {
        Item& item = pending_[static_cast<size_t>(i)];
        if (!item.problem) item.problem = image_record(item.bytes, item.name, options_, item.record);
        item.bytes = std::string();  // the encoded file is no longer needed
      }
    });
  });
}

bool DecodeBatch::finish_pending() {
  if (!decoding_.valid()) return !stopped_;
  decoding_.get();  // rethrows what a decoding thread threw
  for (Item& item : pending_) {
    if (!item.then(item.record, item.problem)) {
      stopped_ = true;
      break;
    }
  }
  pending_.clear();
  return !stopped_;
}

bool DecodeBatch::flush() {
  if (!finish_pending()) return false;
  if (items_.empty()) return true;
  start_pending();
  return finish_pending();
}

}  // namespace stratum::data
