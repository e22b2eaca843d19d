#pragma once
// The small transformer models the adapter tests transform (header-only: its users link LibTorch): 2 blocks, 4 heads, no dropout,
// 16-token sequences (bytes) or 16x16 one-channel images with 3 classes.

#include <cstdint>
#include <string>

#include "models/model_registry.h"
#include "models/builtin_models.h"

namespace stratum::testing {

/// `name` ("gpt-tiny", "text-classifier" or "vit-tiny") `width` wide, seeded with `seed`.
inline models::ModelPtr tiny_model(const std::string& name, uint64_t seed, int64_t width = 32, int64_t mlp_hidden = 64) {
  torch::manual_seed(seed);
  models::ModelRegistry registry{"model"};
  models::register_builtin_models(registry);
  models::ModelOptions options;
  options.name = name;
  options.layers = 2, options.width = width, options.heads = 4, options.mlp_hidden = mlp_hidden, options.dropout = 0.0;
  if (name == "vit-tiny") {
    options.patch_size = 4;
    data::DataSpec spec;
    spec.input_shape = {1, 16, 16};
    spec.num_classes = 3;
    return build_model(registry, options, spec);
  }
  options.context = 16;
  return build_model(registry, options, data::byte_token_spec(16, name == "text-classifier" ? 3 : 0));
}

}  // namespace stratum::testing
