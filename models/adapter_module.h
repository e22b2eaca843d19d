#pragma once
// The base class of whatever an adapter adds to a model after it is built (LoRA matrices,
// prefix keys/values): its parameters train while the base model's stay frozen, and it is
// not part of a model's reference (Hugging Face / timm) weight layout.

#include <torch/nn/module.h>

namespace stratum::models {

/// A module an adapter transform added to a built model.
class AdapterModule : public torch::nn::Module {
 public:
  using torch::nn::Module::Module;
};

/// Freezes every parameter of `model` that does not belong to an AdapterModule, so that
/// adapters applied one after another (LoRA, then prefixes) all stay trainable.
void freeze_base(torch::nn::Module& model);

}  // namespace stratum::models
