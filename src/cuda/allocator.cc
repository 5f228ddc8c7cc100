#include "cuda/allocator.h"

#include <cuda_runtime.h>

#include <cstdio>
#include <string>

#include "cuda/check.h"

namespace flare::cuda {

size_t size_class(size_t bytes) {
  // Up to 1 MiB: powers of two from 512 bytes (few classes, so small blocks are shared widely).
  // Above: 8 classes per octave, so a large block wastes at most 1/8 of itself.
  constexpr size_t kMin = 512, kSmall = size_t(1) << 20;
  if (bytes <= kMin) return kMin;
  size_t p = kMin;
  while (p < bytes) p <<= 1;
  if (p <= kSmall) return p;
  const size_t step = p >> 4;  // p/2 < bytes <= p: steps of p/16 cover (p/2, p] in 8 classes
  return (bytes + step - 1) / step * step;
}

void* CachingAllocator::allocate(size_t bytes) {
  const size_t cls = size_class(bytes);
  std::lock_guard<std::mutex> lock(mu_);
  ++st_.requests;
  auto it = free_.find(cls);
  if (it != free_.end() && !it->second.empty()) {
    void* p = it->second.back();
    it->second.pop_back();
    live_.emplace(p, cls);
    ++st_.reuses;
    st_.cached -= cls;
    st_.in_use += cls;
    return p;
  }
  void* p = nullptr;
  cudaError_t e = cudaMalloc(&p, cls);
  if (e != cudaSuccess) {
    // Usually out of memory (cudaErrorMemoryAllocation): give the cached blocks back and try
    // once more. A second failure is reported with CUDA's reason.
    cudaGetLastError();
    ++st_.oom_retries;
    release_cached_locked();
    e = cudaMalloc(&p, cls);
  }
  if (e != cudaSuccess) {
    cudaGetLastError();
    const double mib = 1.0 / (1 << 20);
    char buf[256];
    std::snprintf(buf, sizeof buf,
                  "cuda:%d: cannot allocate %.1f MiB (%.1f MiB in use by flare, %.1f MiB cached): ",
                  device_, double(cls) * mib, double(st_.in_use) * mib, double(st_.cached) * mib);
    throw Error(std::string(buf) + cudaGetErrorString(e));
  }
  ++st_.device_mallocs;
  st_.reserved += cls;
  st_.in_use += cls;
  live_.emplace(p, cls);
  return p;
}

void CachingAllocator::deallocate(void* p) {
  if (!p) return;
  std::lock_guard<std::mutex> lock(mu_);
  auto it = live_.find(p);
  if (it == live_.end()) {
    std::fprintf(stderr, "flare: cuda:%d: deallocate of %p, which this allocator did not hand out\n",
                 device_, p);
    return;
  }
  const size_t cls = it->second;
  live_.erase(it);
  free_[cls].push_back(p);
  st_.in_use -= cls;
  st_.cached += cls;
}

void CachingAllocator::release_cached() {
  std::lock_guard<std::mutex> lock(mu_);
  release_cached_locked();
}

void CachingAllocator::release_cached_locked() {
  // cudaFree waits for the device, so kernels still reading a freed block finish first.
  for (auto& [cls, blocks] : free_) {
    for (void* p : blocks) {
      cudaFree(p);
      ++st_.device_frees;
      st_.reserved -= cls;
      st_.cached -= cls;
    }
    blocks.clear();
  }
}

MemoryStats CachingAllocator::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return st_;
}

}  // namespace flare::cuda
