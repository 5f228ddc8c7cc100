#pragma once
// A counter-based generator: value i of stream (seed, offset) is a pure function of
// (seed, offset + i), so every device produces the same numbers and kernels need no state.
#include <cmath>
#include <cstdint>

#include "backend/functors.h"

namespace flare::rng {

FLARE_HD uint64_t mix(uint64_t z) {
  // splitmix64's finaliser: a bijective mix with good avalanche.
  z += 0x9e3779b97f4a7c15ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

/// Uniform in (0, 1): 53 random bits, never exactly 0 (safe for log in Box-Muller).
FLARE_HD double uniform(uint64_t seed, uint64_t counter) {
  uint64_t r = mix(seed ^ mix(counter));
  return (double(r >> 11) + 0.5) * (1.0 / 9007199254740992.0);
}

/// Standard normal by Box-Muller on two uniforms of the counter.
FLARE_HD double normal(uint64_t seed, uint64_t counter) {
  double u1 = uniform(seed, 2 * counter), u2 = uniform(seed, 2 * counter + 1);
  return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

}  // namespace flare::rng
