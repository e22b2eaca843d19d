#pragma once
// Registers the built-in model transforms (quantization, LoRA, prefix-tuning, gradient
// checkpointing) in their fixed order.

namespace stratum {
class Registry;
}

namespace stratum::adapters {

void register_builtin_adapters(Registry& registry);

}  // namespace stratum::adapters
