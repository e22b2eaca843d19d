#pragma once
// Which registered model to build and its shape (the `model:` section).
#include <cstdint>
#include <string>
#include <vector>

#include "core/options.h"

namespace stratum::models {

/// Position encoding of a transformer (preset: the named size's).
enum class PositionEncoding { preset, learned, rotary };
inline const ChoiceTable<PositionEncoding>& choices(PositionEncoding) {
  static const ChoiceTable<PositionEncoding> table{{PositionEncoding::preset, ""}, {PositionEncoding::learned, "learned"}, {PositionEncoding::rotary, "rotary"}};
  return table;
}

/// What a ViT head reads (preset: the named size's).
enum class Pooling { preset, token, mean };
inline const ChoiceTable<Pooling>& choices(Pooling) {
  static const ChoiceTable<Pooling> table{{Pooling::preset, ""}, {Pooling::token, "token"}, {Pooling::mean, "mean"}};
  return table;
}

/// Which registered model to build and its shape.
struct ModelOptions {
  std::string name;
  int64_t hidden = 128;
  std::vector<int64_t> channels = {32, 64};
  double dropout = 0.1;
  int64_t num_classes = 0;
  std::string init_from;
  // Transformer shape; 0 or "" keeps the named model's preset (see models/transformer_shape.h).
  int64_t layers = 0;
  int64_t width = 0;
  int64_t heads = 0;
  int64_t mlp_hidden = 0;
  int64_t context = 0;
  int64_t vocab_size = 0;
  int64_t patch_size = 0;
  int64_t image_size = 0;
  PositionEncoding positions = PositionEncoding::preset;
  Pooling pool = Pooling::preset;

  template <class V>
  static void describe(V& v) {
    v.field("name", &ModelOptions::name, "registered model (see `stratum info`)", required());
    v.field("hidden", &ModelOptions::hidden, "width of the hidden layer(s)", in_range(1, 1 << 22));
    v.field("channels", &ModelOptions::channels, "convolution channels per stage", in_range(1, 1 << 16));
    v.field("dropout", &ModelOptions::dropout, "dropout probability", in_range(0.0, 0.99));
    v.field("num_classes", &ModelOptions::num_classes, "output classes (0: from the data)", in_range(0, 65536));
    v.field("init_from", &ModelOptions::init_from,
            "safetensors file in the reference layout (Hugging Face GPT-2 / timm ViT names) to start from");
    v.field("layers", &ModelOptions::layers, "transformer blocks (0: the named size's)", in_range(0, 4096));
    v.field("width", &ModelOptions::width, "transformer embedding width (0: the named size's)", in_range(0, 1 << 20));
    v.field("heads", &ModelOptions::heads, "attention heads; must divide width (0: the named size's)",
            in_range(0, 1 << 16));
    v.field("mlp_hidden", &ModelOptions::mlp_hidden, "hidden width of each block's MLP (0: the named size's)",
            in_range(0, 1 << 22));
    v.field("context", &ModelOptions::context, "longest token sequence (0: the named size's, else the data's)",
            in_range(0, 1 << 20));
    v.field("vocab_size", &ModelOptions::vocab_size, "token vocabulary (0: the named size's, else the data's)",
            in_range(0, 1 << 24));
    v.field("patch_size", &ModelOptions::patch_size, "ViT patch side in pixels (0: the named size's)",
            in_range(0, 1 << 12));
    v.field("image_size", &ModelOptions::image_size, "ViT input side in pixels (0: the named size's, else the data's)",
            in_range(0, 1 << 16));
    v.field("positions", &ModelOptions::positions, "position encoding: learned or rotary (empty: the named size's)");
    v.field("pool", &ModelOptions::pool,
            "ViT head input: token (the class token) or mean (patch tokens averaged, timm's global_pool avg; "
            "empty: the named size's)");
  }
};

}  // namespace stratum::models
