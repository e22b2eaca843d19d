#include "models/builtin_models.h"

#include <memory>

#include "core/registry.h"
#include "models/cnn.h"
#include "models/mlp.h"

namespace stratum::models {
namespace {

// The shape `stratum info` sizes image models for: one Fashion-MNIST image, ten classes.
data::DataSpec fashion_mnist_spec() {
  data::DataSpec spec;
  spec.input_shape = {1, 28, 28};
  spec.num_classes = 10;
  return spec;
}

template <class M>
ModelEntry image_classifier(const char* name, const char* description) {
  ModelEntry entry;
  entry.name = name;
  entry.description = description;
  entry.build = [](const ModelSection& options, const data::DataSpec& spec) -> ModelPtr {
    return std::make_shared<M>(options, spec);
  };
  entry.reference_spec = fashion_mnist_spec();
  return entry;
}

}  // namespace

void register_builtin_models(Registry& registry) {
  registry.models.add(image_classifier<MLP>("mlp", "two hidden layers over flattened inputs"));
  registry.models.add(image_classifier<CNN>("cnn", "conv-BN-ReLU stages, global pooling, MLP head"));
}

}  // namespace stratum::models
