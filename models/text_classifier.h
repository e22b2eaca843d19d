#pragma once
// A bidirectional transformer encoder over token sequences with a mean-pooled classification
// head: the text model for labeled corpora such as the fortunes categories.

#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/embedding.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>

#include "models/adaptable_linear.h"
#include "models/model.h"
#include "models/transformer_shape.h"

namespace stratum::models {

/// The preset shape: 2 layers, 128 wide, 4 heads; vocabulary and context from the data.
TransformerShape text_classifier_preset();

/// Encoder classifier; padding tokens are neither attended to nor pooled.
class TextClassifier : public Model {
 public:
  TextClassifier(const TransformerShape& shape, int64_t pad_token);

  torch::Tensor forward(const data::Batch& batch) override;
  torch::Tensor embed(const data::Batch& batch) override;
  /// The blocks' heads and MLPs (the head and embeddings stay whole).
  TensorParallelPlan tensor_parallel_plan() override;

  torch::nn::Embedding token_embedding{nullptr}, position_embedding{nullptr};
  torch::nn::ModuleList blocks{nullptr};
  torch::nn::LayerNorm norm{nullptr};
  AdaptableLinear head{nullptr};

 private:
  TransformerShape shape_;
  int64_t pad_token_;
};

}  // namespace stratum::models
