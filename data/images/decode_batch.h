#pragma once
// Image decoding on the data.workers pool while a source's loop stays sequential: the source
// queues each item (an image file's bytes, or the reason it was rejected before decoding) with
// what to do with the result, and those continuations run in queue order once a batch has been
// decoded. Labels, counting, rejects and the reservoirs therefore see exactly the order a
// one-thread read gives: results do not depend on the number of workers. A full batch is
// decoded in the background while the source reads the next one.

#include <cstdint>
#include <functional>
#include <future>
#include <optional>
#include <string>
#include <vector>

#include "data/data_options.h"
#include "data/record.h"

namespace stratum::data {

/// Decodes queued images (image_record) a batch at a time on worker threads.
class DecodeBatch {
 public:
  /// What to do with an item once decoded: `record.payload` holds the kept image unless
  /// `problem` says why there is none. Returns false to stop the read (the splitter is full):
  /// the items queued after it are dropped uncounted, as a sequential loop never reads them.
  using Continuation = std::function<bool(Record& record, const std::optional<std::string>& problem)>;

  /// `workers`: decoding threads; a batch holds `per_worker` items per thread.
  DecodeBatch(const ImageOptions& options, int64_t workers, int64_t per_worker = 32);
  /// Waits for a batch still decoding (its continuations are not run).
  ~DecodeBatch();
  DecodeBatch(const DecodeBatch&) = delete;
  DecodeBatch& operator=(const DecodeBatch&) = delete;

  /// Queues an image file's `bytes` (named `name`, for its format). A full batch starts decoding
  /// in the background, after the previous one's continuations have run. Returns false once a
  /// continuation has stopped the read.
  bool add(std::string bytes, std::string name, Continuation then);
  /// Queues an item rejected before decoding, so it is counted in its place in the stream.
  bool add_rejected(std::string problem, Continuation then);
  /// Decodes what is queued and runs every continuation. Returns false when one stopped the read.
  bool flush();

 private:
  struct Item {
    std::string bytes, name;
    std::optional<std::string> problem;
    Record record;
    Continuation then;
  };

  // Adds an item; a full batch waits for the one decoding and then starts decoding.
  bool queue(Item item);
  // The batch decoding in the background, if any: waits for it and runs its continuations.
  bool finish_pending();
  // Starts decoding the queued batch in the background.
  void start_pending();

  const ImageOptions& options_;
  int64_t workers_;
  size_t capacity_;
  std::vector<Item> items_;    // being queued
  std::vector<Item> pending_;  // being decoded by `decoding_`
  std::future<void> decoding_;
  bool stopped_ = false;
};

}  // namespace stratum::data
