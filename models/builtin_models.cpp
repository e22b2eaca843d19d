#include "models/builtin_models.h"

#include <memory>

#include "models/cnn.h"
#include "models/gpt.h"
#include "models/mlp.h"
#include "models/text_classifier.h"
#include "models/vit.h"

namespace stratum::models {
namespace {

data::DataSpec image_spec(int64_t channels, int64_t side, int64_t classes) {
  data::DataSpec spec;
  spec.input_shape = {channels, side, side};
  spec.num_classes = classes;
  return spec;
}

int64_t classes_of(const ModelOptions& options, const data::DataSpec& spec) {
  return options.num_classes > 0 ? options.num_classes : spec.num_classes;
}

// mlp: flattened input -> hidden -> hidden -> classes, with biases.
int64_t mlp_parameters(const ModelOptions& options, const data::DataSpec& spec) {
  int64_t in = 1;
  for (int64_t d : spec.input_shape) in *= d;
  const int64_t h = options.hidden, c = classes_of(options, spec);
  return in * h + h + h * h + h + h * c + c;
}

// cnn: two bias-free 3x3 convolutions with batch norm per stage, then hidden -> classes.
int64_t cnn_parameters(const ModelOptions& options, const data::DataSpec& spec) {
  int64_t in = spec.input_shape.empty() ? 1 : spec.input_shape[0], total = 0;
  for (int64_t out : options.channels) {
    total += in * out * 9 + out * out * 9 + 4 * out;
    in = out;
  }
  const int64_t h = options.hidden, c = classes_of(options, spec);
  return total + in * h + h + h * c + c;
}

template <class M>
ModelEntry image_classifier(const char* name, const char* description,
                            int64_t (*parameters)(const ModelOptions&, const data::DataSpec&)) {
  ModelEntry entry;
  entry.name = name;
  entry.description = description;
  entry.build = [](const ModelOptions& options, const data::DataSpec& spec) -> ModelPtr {
    return std::make_shared<M>(options, spec);
  };
  entry.parameter_count = parameters;
  entry.reference_spec = image_spec(1, 28, 10);
  return entry;
}

// A transformer entry: `preset` resolved against the config and the data, then `make` builds it.
template <class Make>
ModelEntry transformer(const char* name, const char* description, TransformerKind kind, TransformerShape preset,
                       data::DataSpec reference_spec, Make make) {
  ModelEntry entry;
  entry.name = name;
  entry.description = description;
  entry.build = [=](const ModelOptions& options, const data::DataSpec& spec) -> ModelPtr {
    return make(resolve_shape(kind, preset, options, spec), spec);
  };
  entry.parameter_count = [=](const ModelOptions& options, const data::DataSpec& spec) {
    return transformer_parameter_count(kind, resolve_shape(kind, preset, options, spec));
  };
  entry.reference_spec = std::move(reference_spec);
  return entry;
}

ModelEntry gpt(const char* name, const char* description, const std::string& size) {
  const TransformerShape preset = gpt_preset(size);
  return transformer(name, description, TransformerKind::gpt, preset, data::byte_token_spec(size == "tiny" ? 256 : 1024),
                     [](const TransformerShape& shape, const data::DataSpec&) -> ModelPtr {
                       return std::make_shared<GPT>(shape);
                     });
}

ModelEntry vit(const char* name, const char* description, const std::string& size) {
  const bool s16 = size == "s16";
  return transformer(name, description, TransformerKind::vit, vit_preset(size),
                     s16 ? image_spec(3, 224, 1000) : image_spec(1, 28, 10),
                     [](const TransformerShape& shape, const data::DataSpec&) -> ModelPtr {
                       return std::make_shared<ViT>(shape);
                     });
}

}  // namespace

void register_builtin_models(ModelRegistry& registry) {
  registry.add(image_classifier<MLP>("mlp", "two hidden layers over flattened inputs", mlp_parameters));
  registry.add(image_classifier<CNN>("cnn", "conv-BN-ReLU stages, global pooling, MLP head", cnn_parameters));
  registry.add(gpt("gpt-tiny", "GPT decoder LM, 2 layers x 64 (tests; vocabulary and context from the data)", "tiny"));
  registry.add(gpt("gpt-125m", "GPT decoder LM, GPT-2 small shape (12 x 768, 12 heads, 50257 tokens)", "125m"));
  registry.add(gpt("gpt-350m", "GPT decoder LM, GPT-2 medium shape (24 x 1024, 16 heads, 50257 tokens)", "350m"));
  registry.add(transformer("text-classifier", "bidirectional transformer encoder, mean-pooled class head",
                                  TransformerKind::text_classifier, text_classifier_preset(), data::byte_token_spec(256, 45),
                                  [](const TransformerShape& shape, const data::DataSpec& spec) -> ModelPtr {
                                    return std::make_shared<TextClassifier>(shape, spec.pad_token);
                                  }));
  registry.add(vit("vit-tiny", "ViT, 4 x 64, 4x4 patches, mean pooling (Fashion-MNIST on a CPU)", "tiny"));
  registry.add(vit("vit-s16", "ViT-S/16, 224x224 RGB, 1000 classes (timm vit_small_patch16_224)", "s16"));
}

}  // namespace stratum::models
