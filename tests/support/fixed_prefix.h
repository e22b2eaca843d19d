#pragma once
// A prefix-tuning stand-in for model tests: fixed keys and values every position may attend to.

#include <torch/torch.h>

#include <utility>

#include "models/attention.h"

namespace stratum::testing {

/// Fixed (1, H, P, D) keys and values, expanded to the batch.
class FixedPrefix : public models::AttentionPrefix {
 public:
  FixedPrefix(torch::Tensor keys, torch::Tensor values) : keys_(std::move(keys)), values_(std::move(values)) {}
  std::pair<torch::Tensor, torch::Tensor> keys_values(int64_t batch) override {
    return {keys_.expand({batch, -1, -1, -1}), values_.expand({batch, -1, -1, -1})};
  }

 private:
  torch::Tensor keys_, values_;
};

}  // namespace stratum::testing
