#pragma once
// The random generator of the data pipeline: small (32 bytes), fast, serializable, and
// derived per stream from the run seed so every label's reservoir has its own sequence.

#include <cmath>
#include <cstdint>

namespace stratum::data {

/// SplitMix64: turns any 64-bit value into a well-mixed one (seeding, hashing indices).
inline uint64_t splitmix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

/// xoshiro256** (Blackman & Vigna): the generator behind every sampling decision.
class Rng {
 public:
  Rng() : Rng(0) {}
  /// Seeds stream `stream` of run seed `seed`; different streams are independent.
  explicit Rng(uint64_t seed, uint64_t stream = 0) {
    uint64_t x = splitmix64(seed) ^ splitmix64(stream + 0x632BE59BD9B4E019ull);
    for (auto& s : state) s = x = splitmix64(x);
  }

  uint64_t next() {
    const uint64_t result = rotl(state[1] * 5, 7) * 9;
    const uint64_t t = state[1] << 17;
    state[2] ^= state[0];
    state[3] ^= state[1];
    state[1] ^= state[2];
    state[0] ^= state[3];
    state[2] ^= t;
    state[3] = rotl(state[3], 45);
    return result;
  }

  /// Uniform in the open interval (0, 1): never 0, so log() is always finite.
  double uniform() { return (static_cast<double>(next() >> 11) + 0.5) * 0x1.0p-53; }

  /// Uniform integer in [0, n) (Lemire's multiply-shift; n > 0).
  uint64_t below(uint64_t n) { return static_cast<uint64_t>((static_cast<unsigned __int128>(next()) * n) >> 64); }

  uint64_t state[4];

 private:
  static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
};

}  // namespace stratum::data
