#include "models/cnn.h"

#include <torch/nn/modules/activation.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/dropout.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/pooling.h>

#include "core/error.h"

namespace stratum::models {

CNN::CNN(const ModelOptions& options, const data::DataSpec& spec) {
  if (spec.kind != data::InputKind::images || spec.input_shape.size() != 3) {
    throw UserError("model.name: cnn needs image inputs (C, H, W), but the data source gives another kind");
  }
  const int64_t classes = options.num_classes > 0 ? options.num_classes : spec.num_classes;
  STRATUM_CHECK(classes > 0, "cnn needs a classification source");

  torch::nn::Sequential features;
  int64_t in_channels = spec.input_shape[0];
  for (int64_t out_channels : options.channels) {
    for (int conv = 0; conv < 2; ++conv) {
      features->push_back(torch::nn::Conv2d(
          torch::nn::Conv2dOptions(conv == 0 ? in_channels : out_channels, out_channels, 3).padding(1).bias(false)));
      features->push_back(torch::nn::BatchNorm2d(out_channels));
      features->push_back(torch::nn::ReLU());
    }
    features->push_back(torch::nn::MaxPool2d(2));
    in_channels = out_channels;
  }
  features->push_back(torch::nn::AdaptiveAvgPool2d(1));
  features_ = register_module("features", features);
  head_ = register_module("head", torch::nn::Sequential(torch::nn::Flatten(), torch::nn::Dropout(options.dropout),
                                                        torch::nn::Linear(in_channels, options.hidden),
                                                        torch::nn::ReLU(), torch::nn::Linear(options.hidden, classes)));
}

torch::Tensor CNN::forward(const data::Batch& batch) {
  const torch::Tensor x = features_->forward(batch.inputs);  // (B, C_last, 1, 1)
  return head_->forward(x);                                   // (B, classes)
}

torch::Tensor CNN::embed(const data::Batch& batch) {
  return features_->forward(batch.inputs).flatten(1);
}

}  // namespace stratum::models
