#pragma once
// The process's default random generators (what dropout, torch::rand and shuffling draw from)
// and their states, read and written under each generator's own lock.

#include <cstdint>

#include "core/torch_declarations.h"

namespace at {
struct Generator;
}
namespace c10 {
struct Device;
}

namespace stratum {

/// The generator random operations on `device` draw from: the CPU's, or that CUDA device's
/// (the current one for an index-less CUDA device).
at::Generator default_generator(const c10::Device& device);

/// `generator`'s state (a uint8 tensor on the CPU).
at::Tensor generator_state(at::Generator generator);

/// Restores a state generator_state returned.
void set_generator_state(at::Generator generator, const at::Tensor& state);

/// Reseeds `generator` (its stream then starts afresh from `seed`).
void seed_generator(at::Generator generator, uint64_t seed);

}  // namespace stratum
