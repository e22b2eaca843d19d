#pragma once
// Moving a model's weights to and from its published reference layout (Hugging Face GPT-2,
// timm ViT, or Stratum's own names) in safetensors files.

#include <string>

#include "core/safetensors.h"
#include "models/model.h"

namespace stratum {

/// The model's parameters and buffers under their reference names (transposed where the
/// layout stores them so), with metadata naming the layout.
SafetensorsFile reference_weights(const models::Model& model);

/// Loads a reference-layout safetensors file into `model`. Any difference (a missing or
/// unexpected name, a shape mismatch) is one UserError listing what differs.
void load_reference_weights(models::Model& model, const std::string& path);

}  // namespace stratum
