#pragma once
// Registers the built-in model transforms (quantization, LoRA, prefix-tuning, gradient
// checkpointing) in their fixed order.

#include "adapters/transform_registry.h"

namespace stratum::adapters {

void register_builtin_adapters(TransformRegistry& registry);

}  // namespace stratum::adapters
