#pragma once
// The shape of a transformer model: a named preset (gpt-125m, vit-s16, ...) with the config's
// overrides applied and the data's sizes filled in where the preset leaves them open.

#include <cstdint>
#include <string>

#include "models/model_options.h"
#include "core/data_spec.h"

namespace stratum::models {

/// How token positions enter the model.
enum class Positions { learned, rotary };

/// Every size a transformer model is built from.
struct TransformerShape {
  int64_t layers = 2;
  int64_t width = 64;
  int64_t heads = 4;
  int64_t mlp_hidden = 256;
  int64_t context = 0;     ///< longest sequence (tokens) or patches + class token (images); 0: from the data
  int64_t vocab_size = 0;  ///< 0: from the data
  int64_t patch_size = 16;
  int64_t image_size = 0;  ///< 0: from the data
  int64_t channels = 3;
  int64_t num_classes = 0;
  Positions positions = Positions::learned;
  bool mean_pool = false;    ///< ViT: average the patch tokens (then "fc_norm") instead of the class token
  double norm_eps = 1e-5;    ///< LayerNorm epsilon (GPT-2: 1e-5, timm ViT: 1e-6)
  bool gelu_tanh = true;     ///< GPT-2's tanh-approximated GELU; ViT uses the exact one
  double dropout = 0.0;

  int64_t head_dim() const { return width / heads; }
  int64_t patches() const { return (image_size / patch_size) * (image_size / patch_size); }
};

/// Which family a shape describes; the parameter count and the checks depend on it.
enum class TransformerKind { gpt, text_classifier, vit };

/// `preset` with the non-zero fields of `options` applied, then the data's sizes where the
/// result still leaves them open. Throws UserError (naming the model.* key) when the shape
/// cannot be built or does not fit the data.
TransformerShape resolve_shape(TransformerKind kind, TransformerShape preset, const ModelOptions& options,
                               const data::DataSpec& spec);

/// Parameters a model of this kind and shape has, without building it (for `stratum info`);
/// the tests check it against built models.
int64_t transformer_parameter_count(TransformerKind kind, const TransformerShape& shape);

}  // namespace stratum::models
