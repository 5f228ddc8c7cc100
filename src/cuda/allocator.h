#pragma once
// A caching allocator for one device. Freed blocks go to a free list per size class and are
// handed out again, so a training loop that rebuilds its graphs calls cudaMalloc only while
// its memory use still grows. Memory goes back to CUDA only on an out-of-memory retry or on
// request (empty_cache). All work runs on the backend's one stream, so a block freed by the
// host can be reused at once: later kernels are queued after the ones that used it.
#include <cstddef>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "cuda/memory.h"

namespace flare::cuda {

class CachingAllocator {
 public:
  explicit CachingAllocator(int device) : device_(device) {}
  CachingAllocator(const CachingAllocator&) = delete;
  CachingAllocator& operator=(const CachingAllocator&) = delete;

  /// A block of at least `bytes` (256-byte aligned); throws flare::Error when the device is full.
  void* allocate(size_t bytes);
  /// Returns a block to its free list. Unknown pointers are reported on stderr and ignored:
  /// this runs in destructors, where throwing would terminate.
  void deallocate(void* p);
  /// cudaFree of every free block.
  void release_cached();
  MemoryStats stats() const;

 private:
  void release_cached_locked();

  int device_;
  mutable std::mutex mu_;
  std::unordered_map<size_t, std::vector<void*>> free_;  // size class -> free blocks
  std::unordered_map<void*, size_t> live_;              // block -> size class
  MemoryStats st_;
};

}  // namespace flare::cuda
