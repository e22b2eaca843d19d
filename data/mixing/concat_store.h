#pragma once
// The examples of a mix whose sources make examples on demand (image folders, image lists,
// WebDataset shards: an ImageStore each) seen as one split: index i of the mix is index
// i - begin of the source it falls in, whose examples are restandardized with the mix's
// statistics and whose class ids are mapped to the mix's.

#include <torch/types.h>

#include <vector>

#include "data/tensor_dataset.h"

namespace stratum::data {

/// Several sources' splits (held in tensors or in a store) behind one ExampleStore.
class ConcatStore final : public ExampleStore {
 public:
  /// One source's split and how its examples become the mix's.
  struct Part {
    TensorDataset examples;
    torch::Tensor scale, shift;  ///< per channel: x * scale + shift (undefined: unchanged)
    torch::Tensor class_map;     ///< int64: the source's class id -> the mix's (undefined: unchanged)
  };

  explicit ConcatStore(std::vector<Part> parts);

  int64_t size() const override { return begins_.back(); }
  Batch gather(const torch::Tensor& indices) const override { return collect(indices, -1); }
  Batch gather_training(const torch::Tensor& indices, int64_t epoch) const override { return collect(indices, epoch); }

 private:
  // epoch < 0: evaluation examples.
  Batch collect(const torch::Tensor& indices, int64_t epoch) const;

  std::vector<Part> parts_;
  std::vector<int64_t> begins_;  // parts_.size() + 1 offsets
};

}  // namespace stratum::data
