#include "models/transformer_shape.h"

#include "core/error.h"

namespace stratum::models {
namespace {

void fail(const std::string& message) { throw UserError(message); }

const char* family(TransformerKind kind) {
  switch (kind) {
    case TransformerKind::gpt: return "gpt";
    case TransformerKind::text_classifier: return "text-classifier";
    case TransformerKind::vit: return "vit";
  }
  return "?";
}

void override_if_set(int64_t& field, int64_t value) {
  if (value > 0) field = value;
}

// Token models: vocabulary and context come from the data unless the preset or config fixes them.
void fit_tokens(TransformerShape& shape, const data::DataSpec& spec) {
  const int64_t length = spec.input_shape.empty() ? 0 : spec.input_shape[0];
  if (shape.vocab_size == 0) shape.vocab_size = spec.vocab_size;
  if (shape.context == 0) shape.context = length;
  if (spec.vocab_size > shape.vocab_size) {
    fail("model.vocab_size: " + std::to_string(shape.vocab_size) + " is smaller than the data's vocabulary (" +
         std::to_string(spec.vocab_size) + " tokens)");
  }
  if (length > shape.context) {
    fail("model.context: " + std::to_string(shape.context) + " positions, but the data's sequences are " +
         std::to_string(length) + " tokens long (raise model.context or lower data.text.max_length)");
  }
}

void fit_images(TransformerShape& shape, const data::DataSpec& spec) {
  const auto& s = spec.input_shape;
  if (s.size() != 3 || s[1] != s[2]) fail("model.name: vit needs square images (C, H, H) from the data source");
  shape.channels = s[0];
  if (shape.image_size == 0) shape.image_size = s[1];
  if (shape.image_size != s[1]) {
    fail("model.image_size: " + std::to_string(shape.image_size) + ", but the data's images are " +
         std::to_string(s[1]) + "x" + std::to_string(s[2]) + " (set model.image_size: " + std::to_string(s[1]) +
         " and a patch_size that divides it)");
  }
  if (shape.image_size % shape.patch_size != 0) {
    fail("model.patch_size: " + std::to_string(shape.patch_size) + " does not divide model.image_size " +
         std::to_string(shape.image_size));
  }
  shape.context = shape.patches() + 1;  // patches and the class token
}

// LayerNorms, attention, MLP: the same in every family.
int64_t block_parameters(const TransformerShape& s) {
  const int64_t w = s.width, m = s.mlp_hidden;
  return 2 * (2 * w) + (3 * w * w + 3 * w) + (w * w + w) + (w * m + m) + (m * w + w);
}

}  // namespace

TransformerShape resolve_shape(TransformerKind kind, TransformerShape shape, const ModelOptions& options,
                               const data::DataSpec& spec) {
  override_if_set(shape.layers, options.layers);
  override_if_set(shape.width, options.width);
  override_if_set(shape.heads, options.heads);
  override_if_set(shape.mlp_hidden, options.mlp_hidden);
  override_if_set(shape.context, options.context);
  override_if_set(shape.vocab_size, options.vocab_size);
  override_if_set(shape.patch_size, options.patch_size);
  override_if_set(shape.image_size, options.image_size);
  if (options.positions != PositionEncoding::preset) {
    shape.positions = options.positions == PositionEncoding::rotary ? Positions::rotary : Positions::learned;
  }
  if (options.pool != Pooling::preset) shape.mean_pool = options.pool == Pooling::mean;
  shape.dropout = options.dropout;
  shape.num_classes = options.num_classes > 0 ? options.num_classes : spec.num_classes;

  if (shape.width % shape.heads != 0) {
    fail("model.heads: " + std::to_string(shape.heads) + " does not divide model.width " + std::to_string(shape.width));
  }
  if (shape.positions == Positions::rotary && shape.head_dim() % 2 != 0) {
    fail("model.positions: rotary needs an even head width, but width/heads = " + std::to_string(shape.head_dim()));
  }
  const bool tokens = kind != TransformerKind::vit;
  if (tokens != (spec.kind == data::InputKind::tokens)) {
    fail(std::string("model.name: ") + family(kind) + " needs " + (tokens ? "token sequences" : "images") +
         ", but the data source gives " + (spec.kind == data::InputKind::tokens ? "token sequences" : "images or features"));
  }
  if (tokens) {
    fit_tokens(shape, spec);
  } else {
    fit_images(shape, spec);
  }
  if (kind != TransformerKind::gpt && shape.num_classes <= 0) {
    fail(std::string("model.name: ") + family(kind) + " needs a labeled (classification) data source");
  }
  return shape;
}

int64_t transformer_parameter_count(TransformerKind kind, const TransformerShape& s) {
  const int64_t w = s.width;
  const int64_t positions = s.positions == Positions::learned ? s.context * w : 0;
  const int64_t trunk = s.layers * block_parameters(s) + 2 * w;  // blocks and the final LayerNorm
  const int64_t head = s.num_classes * w + s.num_classes;
  switch (kind) {
    case TransformerKind::gpt:  // the output projection is tied to the token embedding
      return s.vocab_size * w + positions + trunk;
    case TransformerKind::text_classifier:
      return s.vocab_size * w + positions + trunk + head;
    case TransformerKind::vit:
      return (s.channels * s.patch_size * s.patch_size * w + w) + w /* class token */ + positions + trunk + head;
  }
  return 0;
}

}  // namespace stratum::models
