#pragma once
// The unit of work between the loader and the model.

#include <torch/types.h>

namespace stratum::data {

/// A collated batch: model inputs and the targets the task compares logits with.
struct Batch {
  torch::Tensor inputs;   ///< images (B, C, H, W) float32; token ids (B, T) int64
  /// class ids (B) int64; for token windows the next token of every input position (B, T)
  /// int64, -100 where no prediction counts; undefined or anything else for other token batches
  /// (a language model then predicts each input token from the ones before it)
  torch::Tensor targets;
  /// token windows packed by document: (B, T) int64, the document each token belongs to within
  /// its row (attention and positions restart at each one); undefined otherwise
  torch::Tensor segments{};

  int64_t size() const { return inputs.defined() ? inputs.size(0) : 0; }

  /// The same batch in page-locked host memory, so a copy to a GPU can run asynchronously.
  Batch pinned() const {
    return {inputs.defined() ? inputs.pin_memory() : inputs, targets.defined() ? targets.pin_memory() : targets,
            segments.defined() ? segments.pin_memory() : torch::Tensor()};
  }

  Batch to(const torch::Device& device) const {
    return {inputs.to(device, /*non_blocking=*/true), targets.to(device, /*non_blocking=*/true),
            segments.defined() ? segments.to(device, /*non_blocking=*/true) : torch::Tensor()};
  }
};

}  // namespace stratum::data
