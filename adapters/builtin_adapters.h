#pragma once
// Registers the built-in model transforms (LoRA, gradient checkpointing; prefix-tuning and
// quantization to come) in their fixed order.

namespace stratum {
class Registry;
}

namespace stratum::adapters {

void register_builtin_adapters(Registry& registry);

}  // namespace stratum::adapters
