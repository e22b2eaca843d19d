#pragma once
// A multi-layer perceptron over flattened inputs: the baseline every image model must beat.

#include <torch/nn/modules/container/sequential.h>

#include "models/model_options.h"
#include "core/data_spec.h"
#include "models/model.h"

namespace stratum::models {

/// flatten -> [linear -> ReLU -> dropout] x 2 -> linear to classes.
class MLP : public Model {
 public:
  MLP(const ModelOptions& options, const data::DataSpec& spec);
  torch::Tensor forward(const data::Batch& batch) override;

 private:
  torch::nn::Sequential layers_{nullptr};
};

}  // namespace stratum::models
