#pragma once
// A small convolutional classifier for image sources (the quickstart's first model).

#include <torch/nn/modules/container/sequential.h>

#include "models/model_options.h"
#include "core/data_spec.h"
#include "models/model.h"

namespace stratum::models {

/// Per entry of `channels`: [conv3x3 -> batch norm -> ReLU] x 2 -> max-pool 2x2; then a
/// global average pool, dropout and a hidden layer before the class logits.
class CNN : public Model {
 public:
  CNN(const ModelOptions& options, const data::DataSpec& spec);
  torch::Tensor forward(const data::Batch& batch) override;
  torch::Tensor embed(const data::Batch& batch) override;

 private:
  torch::nn::Sequential features_{nullptr};
  torch::nn::Sequential head_{nullptr};
};

}  // namespace stratum::models
