// Element-wise kernels of one argument: fill, axpy, the unary functions and their gradients
// (one kernel per shared functor), random numbers and the finiteness check.
#include "backend/functors.h"
#include "backend/random.h"
#include "cuda/cuda_backend.h"
#include "cuda/launch.cuh"

namespace flare::cuda {
namespace {

template <typename T>
__global__ void fill_kernel(T* y, int64_t n, T v) {
  FLARE_GRID_LOOP(i, n) y[i] = v;
}

template <typename T>
__global__ void axpy_kernel(T* y, const T* x, int64_t n, T alpha) {
  FLARE_GRID_LOOP(i, n) y[i] += alpha * x[i];
}

template <Unary F, typename T>
__global__ void unary_kernel(T* y, const T* x, int64_t n, T alpha) {
  FLARE_GRID_LOOP(i, n) y[i] = fn::unary<F>(x[i], alpha);
}

// x or y may be null when the function's derivative does not read it.
template <Unary F, typename T>
__global__ void unary_grad_kernel(T* dx, const T* x, const T* y, const T* dy, int64_t n, T alpha) {
  FLARE_GRID_LOOP(i, n) dx[i] += fn::unary_grad<F>(x ? x[i] : T(0), y ? y[i] : T(0), dy[i], alpha);
}

// The same formulas as the CPU backend, on the same counters: identical streams.
template <typename T>
__global__ void random_kernel(Dist d, T* y, int64_t n, double a, double b, uint64_t seed,
                              uint64_t offset) {
  FLARE_GRID_LOOP(i, n) {
    const uint64_t c = offset + uint64_t(i);
    switch (d) {
      case Dist::Uniform: y[i] = T(a + (b - a) * rng::uniform(seed, c)); break;
      case Dist::Normal: y[i] = T(a + b * rng::normal(seed, c)); break;
      case Dist::Bernoulli: y[i] = rng::uniform(seed, c) < a ? T(b) : T(0); break;
    }
  }
}

template <typename T>
__global__ void finite_kernel(const T* x, int64_t n, int* bad) {
  bool ok = true;
  FLARE_GRID_LOOP(i, n) ok &= isfinite(x[i]);
  if (!ok) *bad = 1;  // any writer will do: the flag only goes from 0 to 1
}

}  // namespace

void CudaBackend::fill(DType t, void* y, int64_t n, double value) {
  if (n <= 0) return;
  activate();
  if (value == 0.0) {
    FLARE_CUDA_CHECK(cudaMemsetAsync(y, 0, size_t(n) * dtype_size(t), stream_));
    counters::copies.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  dispatch_dtype(t, [&](auto z) {
    using T = decltype(z);
    fill_kernel<T><<<blocks_for(n), kThreads, 0, stream_>>>(static_cast<T*>(y), n, T(value));
    FLARE_CUDA_LAUNCHED(fill_kernel);
  });
}

void CudaBackend::axpy(DType t, void* y, const void* x, int64_t n, double alpha) {
  if (n <= 0) return;
  activate();
  dispatch_dtype(t, [&](auto z) {
    using T = decltype(z);
    axpy_kernel<T><<<blocks_for(n), kThreads, 0, stream_>>>(static_cast<T*>(y),
                                                            static_cast<const T*>(x), n, T(alpha));
    FLARE_CUDA_LAUNCHED(axpy_kernel);
  });
}

void CudaBackend::unary(Unary f, DType t, void* y, const void* x, int64_t n, double alpha) {
  if (n <= 0) return;
  activate();
  dispatch_dtype(t, [&](auto z) {
    using T = decltype(z);
    T* py = static_cast<T*>(y);
    const T* px = static_cast<const T*>(x);
    switch (f) {
#define FLARE_CASE(F)                                                                     \
  case Unary::F:                                                                          \
    unary_kernel<Unary::F, T><<<blocks_for(n), kThreads, 0, stream_>>>(py, px, n, T(alpha)); \
    break;
      FLARE_FOR_EACH_UNARY(FLARE_CASE)
#undef FLARE_CASE
      default: throw Error("cuda unary: unknown function " + std::to_string(int(f)));
    }
    FLARE_CUDA_LAUNCHED(unary_kernel);
  });
}

void CudaBackend::unary_grad(Unary f, DType t, void* dx, const void* x, const void* y,
                             const void* dy, int64_t n, double alpha) {
  if (n <= 0) return;
  activate();
  dispatch_dtype(t, [&](auto z) {
    using T = decltype(z);
    T* d = static_cast<T*>(dx);
    const T* px = static_cast<const T*>(x);
    const T* py = static_cast<const T*>(y);
    const T* pdy = static_cast<const T*>(dy);
    switch (f) {
#define FLARE_CASE(F)                                                                     \
  case Unary::F:                                                                          \
    unary_grad_kernel<Unary::F, T>                                                        \
        <<<blocks_for(n), kThreads, 0, stream_>>>(d, px, py, pdy, n, T(alpha));            \
    break;
      FLARE_FOR_EACH_UNARY(FLARE_CASE)
#undef FLARE_CASE
      default: throw Error("cuda unary_grad: unknown function " + std::to_string(int(f)));
    }
    FLARE_CUDA_LAUNCHED(unary_grad_kernel);
  });
}

void CudaBackend::random(Dist d, DType t, void* y, int64_t n, double a, double b, uint64_t seed,
                         uint64_t offset) {
  if (n <= 0) return;
  activate();
  dispatch_dtype(t, [&](auto z) {
    using T = decltype(z);
    random_kernel<T><<<blocks_for(n), kThreads, 0, stream_>>>(d, static_cast<T*>(y), n, a, b,
                                                              seed, offset);
    FLARE_CUDA_LAUNCHED(random_kernel);
  });
}

bool CudaBackend::all_finite(DType t, const void* x, int64_t n) {
  if (n <= 0) return true;
  activate();
  std::lock_guard<std::mutex> lock(result_mu_);
  int* flag = static_cast<int*>(result_dev_);
  FLARE_CUDA_CHECK(cudaMemsetAsync(flag, 0, sizeof(int), stream_));
  dispatch_dtype(t, [&](auto z) {
    using T = decltype(z);
    finite_kernel<T><<<blocks_for(n), kThreads, 0, stream_>>>(static_cast<const T*>(x), n, flag);
    FLARE_CUDA_LAUNCHED(finite_kernel);
  });
  FLARE_CUDA_CHECK(cudaMemcpyAsync(result_host_, flag, sizeof(int), cudaMemcpyDeviceToHost,
                                   stream_));
  FLARE_CUDA_CHECK(cudaStreamSynchronize(stream_));
  counters::waits.fetch_add(1, std::memory_order_relaxed);
  return *static_cast<int*>(result_host_) == 0;
}

}  // namespace flare::cuda
