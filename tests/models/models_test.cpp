#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "core/error.h"
#include "models/model_registry.h"
#include "models/builtin_models.h"
#include "models/cnn.h"
#include "models/mlp.h"

namespace stratum::models {
namespace {

using ::testing::HasSubstr;

data::DataSpec image_spec() {
  data::DataSpec spec;
  spec.input_shape = {1, 28, 28};
  spec.num_classes = 10;
  return spec;
}

TEST(Models, MlpShapesAndParameterCount) {
  models::ModelOptions options;
  options.hidden = 32;
  MLP mlp(options, image_spec());
  const torch::Tensor logits = mlp.forward({torch::randn({5, 1, 28, 28}), {}});
  EXPECT_EQ(logits.sizes(), (std::vector<int64_t>{5, 10}));
  EXPECT_EQ(count_parameters(mlp), (784 * 32 + 32) + (32 * 32 + 32) + (32 * 10 + 10));
}

TEST(Models, CnnShapesAndParameterCount) {
  models::ModelOptions options;
  options.channels = {8, 16};
  options.hidden = 32;
  CNN cnn(options, image_spec());
  const torch::Tensor logits = cnn.forward({torch::randn({3, 1, 28, 28}), {}});
  EXPECT_EQ(logits.sizes(), (std::vector<int64_t>{3, 10}));
  const int64_t convs = (1 * 8 * 9 + 8 * 8 * 9) + (8 * 16 * 9 + 16 * 16 * 9);
  const int64_t norms = 2 * (8 + 8) + 2 * (16 + 16);
  const int64_t head = (16 * 32 + 32) + (32 * 10 + 10);
  EXPECT_EQ(count_parameters(cnn), convs + norms + head);
}

TEST(Models, ClassCountOverride) {
  models::ModelOptions options;
  options.num_classes = 4;
  MLP mlp(options, image_spec());
  EXPECT_EQ(mlp.forward({torch::randn({2, 1, 28, 28}), {}}).size(1), 4);
}

TEST(Models, RegistryHoldsBuiltinsAndExplainsUnknownNames) {
  models::ModelRegistry registry{"model"};
  register_builtin_models(registry);
  EXPECT_NE(registry.find("cnn"), nullptr);
  EXPECT_NE(registry.find("mlp"), nullptr);
  EXPECT_EQ(registry.unknown_message("cnnn"), "unknown model \"cnnn\" (did you mean cnn?); registered: cnn, gpt-125m, gpt-350m, gpt-tiny, mlp, "
            "text-classifier, vit-s16, vit-tiny");
  EXPECT_THROW(register_builtin_models(registry), stratum::UserError);  // names are unique
}

}  // namespace
}  // namespace stratum::models
