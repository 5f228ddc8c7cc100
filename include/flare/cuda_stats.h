#pragma once
// What the CUDA backend reports, for programs, benchmarks and diagnostics: its caching
// allocator's memory (as torch.cuda.memory_stats does) and the work it has queued. Needs no
// CUDA headers. In a build without the CUDA backend (FLARE_WITH_CUDA undefined) queue_stats()
// is all zeros, and memory_stats() and empty_cache() throw flare::Error saying so, as they do
// for a device that cannot be used.
#include <cstddef>
#include <cstdint>

namespace flare::cuda {

struct MemoryStats {
  size_t reserved = 0;          // bytes held from cudaMalloc (in use + cached)
  size_t in_use = 0;            // bytes of blocks handed out (rounded to their size class)
  size_t cached = 0;            // bytes of free blocks kept for reuse
  uint64_t requests = 0;        // allocate() calls
  uint64_t reuses = 0;          // requests served from the cache
  uint64_t device_mallocs = 0;  // cudaMalloc calls
  uint64_t device_frees = 0;    // cudaFree calls
  uint64_t oom_retries = 0;     // cudaMalloc failures retried after releasing the cache
};

/// Work the CUDA backend has queued, and the times the host waited for a device, since the
/// process started, over every device: a model's cost in launches (each costs microseconds of
/// host time whatever its size). Benchmarks report these per update.
struct QueueStats {
  uint64_t kernels = 0;  // kernel launches
  uint64_t copies = 0;   // cudaMemcpy*Async and cudaMemsetAsync calls
  uint64_t blas = 0;     // cuBLAS calls
  uint64_t waits = 0;    // stream or event synchronisations the host blocked in
};
QueueStats queue_stats();

/// Statistics of device `index`'s allocator; throws flare::Error when that device is unavailable.
MemoryStats memory_stats(int index);
/// Returns every cached (free) block of device `index` to CUDA.
void empty_cache(int index);

}  // namespace flare::cuda
