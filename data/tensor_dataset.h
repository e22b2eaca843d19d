#pragma once
// An in-memory split: examples stacked in two tensors, addressed by index.

#include <torch/types.h>

#include <memory>
#include <vector>

#include "core/batch.h"
#include "data/record.h"

namespace stratum::data {

/// Examples read on demand instead of held in tensors (token windows of memory-mapped shards).
/// gather may be called from several threads at once.
class ExampleStore {
 public:
  virtual ~ExampleStore() = default;
  virtual int64_t size() const = 0;
  virtual Batch gather(const torch::Tensor& indices) const = 0;
  /// The examples as training sees them in `epoch`: a store that augments draws each
  /// example's transformation from (seed, epoch, index), never from timing.
  virtual Batch gather_training(const torch::Tensor& indices, int64_t epoch) const {
    (void)epoch;
    return gather(indices);
  }
};

/// Examples of one split held as (N, ...) inputs and (N, ...) targets, or read from a store
/// (then `targets` may still hold the labels, for counting).
struct TensorDataset {
  torch::Tensor inputs;
  torch::Tensor targets;
  std::vector<Provenance> origins{};  ///< where each example came from (tools name items by it)
  std::vector<double> times{};        ///< each example's record time (timestamp, or arrival index)
  std::vector<std::vector<std::string>> fields{};  ///< each example's Record::fields (evaluation by slice)
  std::shared_ptr<const ExampleStore> store{};  ///< when set, the examples (inputs and targets are unused)

  /// Appends what a record tells about its example (origin, time, fields), in example order.
  void add_record_facts(const Record& record) {
    origins.push_back(record.origin);
    times.push_back(record.time);
    fields.push_back(record.fields);
  }

  int64_t size() const { return store ? store->size() : inputs.defined() ? inputs.size(0) : 0; }

  /// The examples at `indices` (int64, 1-D) as one batch.
  Batch gather(const torch::Tensor& indices) const {
    if (store) return store->gather(indices);
    return {inputs.index_select(0, indices), targets.index_select(0, indices)};
  }

  /// The examples at `indices` for training in `epoch` (augmented, where the store augments).
  Batch gather_training(const torch::Tensor& indices, int64_t epoch) const {
    if (store) return store->gather_training(indices, epoch);
    return gather(indices);
  }

  /// Examples [begin, end) as one batch (without copying when held in tensors).
  Batch slice(int64_t begin, int64_t end) const {
    if (store) return store->gather(at::arange(begin, end, at::kLong));
    return {inputs.slice(0, begin, end), targets.slice(0, begin, end)};
  }
};

}  // namespace stratum::data
