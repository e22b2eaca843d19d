#include "models/mlp.h"

#include <torch/nn/modules/activation.h>
#include <torch/nn/modules/dropout.h>
#include <torch/nn/modules/linear.h>

#include "core/error.h"

namespace stratum::models {

MLP::MLP(const ModelOptions& options, const data::DataSpec& spec) {
  if (spec.kind == data::InputKind::tokens) {
    throw UserError("model.name: mlp needs image or feature inputs, but the data source gives token sequences");
  }
  int64_t in_features = 1;
  for (int64_t d : spec.input_shape) in_features *= d;
  const int64_t classes = options.num_classes > 0 ? options.num_classes : spec.num_classes;
  STRATUM_CHECK(in_features > 0 && classes > 0, "mlp needs a classification source with a fixed input shape");
  layers_ = register_module(
      "layers", torch::nn::Sequential(torch::nn::Linear(in_features, options.hidden), torch::nn::ReLU(),
                                      torch::nn::Dropout(options.dropout),
                                      torch::nn::Linear(options.hidden, options.hidden), torch::nn::ReLU(),
                                      torch::nn::Dropout(options.dropout),
                                      torch::nn::Linear(options.hidden, classes)));
}

torch::Tensor MLP::forward(const data::Batch& batch) {
  return layers_->forward(batch.inputs.flatten(1));  // (B, features) -> (B, classes)
}

}  // namespace stratum::models
