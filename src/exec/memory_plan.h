#pragma once
// Offsets in one buffer for values whose lifetimes are known in advance (static graphs).
// Two buffers may share memory only when their lifetimes do not overlap.
#include <cstddef>
#include <cstdint>
#include <vector>

namespace flare::exec {

/// A buffer of `bytes` live over steps [first, last] (both included: a buffer written at the
/// step another is last read at must not share that one's memory).
struct Lifetime {
  int64_t first = 0, last = 0;
  size_t bytes = 0;
};

struct MemoryPlan {
  std::vector<size_t> offset;  // per lifetime, 64-byte aligned
  size_t total = 0;            // the buffer size needed
  size_t unshared = 0;         // the sum of the aligned sizes (no reuse)
};

/// Greedy by size: the largest buffers are placed first, each into the smallest gap between
/// the buffers already placed that overlap it in time (else above them all). With reuse off
/// every buffer gets its own memory.
MemoryPlan plan_memory(const std::vector<Lifetime>& buffers, bool reuse = true);

}  // namespace flare::exec
