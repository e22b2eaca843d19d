#pragma once
// The unit of work between the loader and the model.

#include <torch/types.h>

namespace stratum::data {

/// A collated batch: model inputs and the targets the task compares logits with.
struct Batch {
  torch::Tensor inputs;   ///< images (B, C, H, W) float32; token ids (B, T) int64
  torch::Tensor targets;  ///< class ids (B) int64; next-token ids (B, T) int64

  int64_t size() const { return inputs.defined() ? inputs.size(0) : 0; }

  Batch to(const torch::Device& device) const {
    return {inputs.to(device, /*non_blocking=*/true), targets.to(device, /*non_blocking=*/true)};
  }
};

}  // namespace stratum::data
