#pragma once
// Turns CUDA and cuBLAS status codes into flare::Error carrying CUDA's own message and the
// call site, so a failure on the GPU reads like any other flare error.
#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <atomic>
#include <cstdint>
#include <string>

#include "flare/error.h"

namespace flare::cuda {

[[noreturn]] void throw_cuda(cudaError_t e, const char* what, const char* file, int line);
[[noreturn]] void throw_cublas(cublasStatus_t s, const char* what, const char* file, int line);

}  // namespace flare::cuda

#define FLARE_CUDA_CHECK(expr)                                                          \
  do {                                                                                  \
    cudaError_t flare_e_ = (expr);                                                      \
    if (flare_e_ != cudaSuccess)                                                        \
      ::flare::cuda::throw_cuda(flare_e_, #expr, __FILE__, __LINE__);                   \
  } while (0)

#define FLARE_CUBLAS_CHECK(expr)                                                        \
  do {                                                                                  \
    cublasStatus_t flare_s_ = (expr);                                                   \
    if (flare_s_ != CUBLAS_STATUS_SUCCESS)                                              \
      ::flare::cuda::throw_cublas(flare_s_, #expr, __FILE__, __LINE__);                 \
  } while (0)

namespace flare::cuda::counters {
// What the backend has queued and waited for, over every device (queue_stats() reads them).
inline std::atomic<uint64_t> kernels{0}, copies{0}, blas{0}, waits{0};
}  // namespace flare::cuda::counters

/// After a kernel launch: bad launch configurations surface here; faults inside a kernel
/// surface at the next synchronisation (to_host, all_finite, synchronize).
#define FLARE_CUDA_LAUNCHED(kernel)                                                     \
  do {                                                                                  \
    ::flare::cuda::counters::kernels.fetch_add(1, std::memory_order_relaxed);           \
    cudaError_t flare_e_ = cudaGetLastError();                                          \
    if (flare_e_ != cudaSuccess)                                                        \
      ::flare::cuda::throw_cuda(flare_e_, "launch of " #kernel, __FILE__, __LINE__);    \
  } while (0)
