#pragma once
// An in-memory split: examples stacked in two tensors, addressed by index.

#include <torch/types.h>

#include <vector>

#include "core/batch.h"
#include "data/record.h"

namespace stratum::data {

/// Examples of one split held as (N, ...) inputs and (N, ...) targets.
struct TensorDataset {
  torch::Tensor inputs;
  torch::Tensor targets;
  std::vector<Provenance> origins;  ///< where each example came from (tools name items by it)

  int64_t size() const { return inputs.defined() ? inputs.size(0) : 0; }

  /// The examples at `indices` (int64, 1-D) as one batch.
  Batch gather(const torch::Tensor& indices) const {
    return {inputs.index_select(0, indices), targets.index_select(0, indices)};
  }

  /// Examples [begin, end) as one batch, without copying.
  Batch slice(int64_t begin, int64_t end) const {
    return {inputs.slice(0, begin, end), targets.slice(0, begin, end)};
  }
};

}  // namespace stratum::data
