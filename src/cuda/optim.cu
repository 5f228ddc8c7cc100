// Fused optimizer steps: one pass over value, gradient and state per call, over a dense array
// or over the touched rows of a table (row ids come from the host through the staging ring).
// The formulas are the CPU backend's (src/backend/cpu_optim.cc), element for element.
#include "cuda/cuda_backend.h"
#include "cuda/launch.cuh"

namespace flare::cuda {
namespace {

// Element k of the range: k itself when dense, else element k % n of row rows[k / n].
__device__ __forceinline__ int64_t element(const int32_t* rows, int64_t n, int64_t k) {
  if (!rows) return k;
  const int64_t r = k / n;
  return int64_t(rows[r]) * n + (k - r * n);
}

template <typename T>
__global__ void sgd_kernel(T* w, const T* g, T* b, const int32_t* rows, int64_t n, int64_t total,
                           T lr, T mom, T damp1, T wd, bool nesterov, bool first) {
  FLARE_GRID_LOOP(k, total) {
    const int64_t e = element(rows, n, k);
    T d = g[e] + wd * w[e];
    if (mom != T(0)) {
      const T nb = first ? d : mom * b[e] + damp1 * d;
      b[e] = nb;
      d = nesterov ? d + mom * nb : nb;
    }
    w[e] -= lr * d;
  }
}

template <typename T>
__global__ void adagrad_kernel(T* w, const T* g, T* s, const int32_t* rows, int64_t n,
                               int64_t total, T lr, T eps, T wd) {
  FLARE_GRID_LOOP(k, total) {
    const int64_t e = element(rows, n, k);
    const T d = g[e] + wd * w[e];
    const T ns = s[e] + d * d;
    s[e] = ns;
    w[e] -= lr * d / (sqrt(ns) + eps);
  }
}

template <typename T>
__global__ void adadelta_kernel(T* w, const T* g, T* sq, T* acc, const int32_t* rows, int64_t n,
                                int64_t total, T lr, T rho, T eps, T wd) {
  const T rho1 = T(1) - rho;
  FLARE_GRID_LOOP(k, total) {
    const int64_t e = element(rows, n, k);
    const T gd = g[e] + wd * w[e];
    const T s = rho * sq[e] + rho1 * gd * gd;
    sq[e] = s;
    const T d = sqrt(acc[e] + eps) / sqrt(s + eps) * gd;
    acc[e] = rho * acc[e] + rho1 * d * d;
    w[e] -= lr * d;
  }
}

template <typename T>
__global__ void adam_kernel(T* w, const T* g, T* m, T* v, const int32_t* rows, int64_t n,
                            int64_t total, T b1, T b2, T step, T inv_sqrt_bias2, T eps, T wd,
                            T decay, bool decoupled) {
  const T b1c = T(1) - b1, b2c = T(1) - b2;
  FLARE_GRID_LOOP(k, total) {
    const int64_t e = element(rows, n, k);
    T wi = w[e], gi = g[e];
    if (decoupled) wi *= decay;
    else gi += wd * wi;
    const T mi = b1 * m[e] + b1c * gi;
    const T vi = b2 * v[e] + b2c * gi * gi;
    m[e] = mi;
    v[e] = vi;
    w[e] = wi - step * mi / (sqrt(vi) * inv_sqrt_bias2 + eps);
  }
}

template <typename T>
__global__ void scale_kernel(T* x, const int32_t* rows, int64_t n, int64_t total, T alpha) {
  FLARE_GRID_LOOP(k, total) x[element(rows, n, k)] *= alpha;
}

// Sum of squares in double: per-block partial sums, then one block adds them in a fixed order,
// so the result does not depend on scheduling.
template <typename T>
__global__ void sum_squares_partial(const T* x, const int32_t* rows, int64_t n, int64_t total,
                                    double* part) {
  double s = 0;
  FLARE_GRID_LOOP(k, total) {
    const double v = double(x[element(rows, n, k)]);
    s += v * v;
  }
  s = block_all_reduce(s, SumOp());
  if (threadIdx.x == 0) part[blockIdx.x] = s;
}

__global__ void sum_partials(const double* part, int count, double* out) {
  double s = 0;
  for (int i = threadIdx.x; i < count; i += blockDim.x) s += part[i];
  s = block_all_reduce(s, SumOp());
  if (threadIdx.x == 0) *out = s;
}

int64_t range_total(const UpdateRange& r) { return r.sparse() ? r.n_rows * r.n : r.n; }

}  // namespace

// Each update runs under idx_mu_ when sparse: the uploaded row list must stay put until the
// kernel that reads it is queued.
#define FLARE_OPTIM_PROLOGUE(r)                                      \
  const int64_t total = range_total(r);                              \
  if (total <= 0) return;                                            \
  activate();                                                        \
  std::unique_lock<std::mutex> lock(idx_mu_, std::defer_lock);       \
  const int32_t* rows = nullptr;                                     \
  if ((r).sparse()) {                                                \
    lock.lock();                                                     \
    rows = upload_indices((r).rows, (r).n_rows);                     \
  }

void CudaBackend::sgd_update(DType t, void* w, const void* g, void* buf, UpdateRange r,
                             SgdStep s) {
  FLARE_OPTIM_PROLOGUE(r)
  dispatch_dtype(t, [&](auto z) {
    using T = decltype(z);
    sgd_kernel<T><<<blocks_for(total), kThreads, 0, stream_>>>(
        static_cast<T*>(w), static_cast<const T*>(g), static_cast<T*>(buf), rows, r.n, total,
        T(s.lr), T(s.momentum), T(1 - s.dampening), T(s.weight_decay), s.nesterov, s.first);
    FLARE_CUDA_LAUNCHED(sgd_kernel);
  });
}

void CudaBackend::adagrad_update(DType t, void* w, const void* g, void* sum, UpdateRange r,
                                 AdagradStep s) {
  FLARE_OPTIM_PROLOGUE(r)
  dispatch_dtype(t, [&](auto z) {
    using T = decltype(z);
    adagrad_kernel<T><<<blocks_for(total), kThreads, 0, stream_>>>(
        static_cast<T*>(w), static_cast<const T*>(g), static_cast<T*>(sum), rows, r.n, total,
        T(s.lr), T(s.eps), T(s.weight_decay));
    FLARE_CUDA_LAUNCHED(adagrad_kernel);
  });
}

void CudaBackend::adadelta_update(DType t, void* w, const void* g, void* sq, void* acc_delta,
                                  UpdateRange r, AdadeltaStep s) {
  FLARE_OPTIM_PROLOGUE(r)
  dispatch_dtype(t, [&](auto z) {
    using T = decltype(z);
    adadelta_kernel<T><<<blocks_for(total), kThreads, 0, stream_>>>(
        static_cast<T*>(w), static_cast<const T*>(g), static_cast<T*>(sq),
        static_cast<T*>(acc_delta), rows, r.n, total, T(s.lr), T(s.rho), T(s.eps),
        T(s.weight_decay));
    FLARE_CUDA_LAUNCHED(adadelta_kernel);
  });
}

void CudaBackend::adam_update(DType t, void* w, const void* g, void* m, void* v, UpdateRange r,
                              AdamStep s) {
  FLARE_OPTIM_PROLOGUE(r)
  dispatch_dtype(t, [&](auto z) {
    using T = decltype(z);
    adam_kernel<T><<<blocks_for(total), kThreads, 0, stream_>>>(
        static_cast<T*>(w), static_cast<const T*>(g), static_cast<T*>(m), static_cast<T*>(v),
        rows, r.n, total, T(s.beta1), T(s.beta2), T(s.lr / s.bias1), T(1 / std::sqrt(s.bias2)),
        T(s.eps), T(s.weight_decay), T(1 - s.lr * s.weight_decay), s.decoupled);
    FLARE_CUDA_LAUNCHED(adam_kernel);
  });
}

void CudaBackend::scale(DType t, void* x, UpdateRange r, double alpha) {
  FLARE_OPTIM_PROLOGUE(r)
  dispatch_dtype(t, [&](auto z) {
    using T = decltype(z);
    scale_kernel<T><<<blocks_for(total), kThreads, 0, stream_>>>(static_cast<T*>(x), rows, r.n,
                                                                 total, T(alpha));
    FLARE_CUDA_LAUNCHED(scale_kernel);
  });
}

double CudaBackend::sum_squares(DType t, const void* x, UpdateRange r) {
  const int64_t total = range_total(r);
  if (total <= 0) return 0.0;
  activate();
  std::unique_lock<std::mutex> lock(idx_mu_, std::defer_lock);
  const int32_t* rows = nullptr;
  if (r.sparse()) {
    lock.lock();
    rows = upload_indices(r.rows, r.n_rows);
  }
  std::lock_guard<std::mutex> result_lock(result_mu_);
  const int blocks = blocks_for(total);
  double* part = static_cast<double*>(alloc_.allocate(size_t(blocks) * sizeof(double)));
  dispatch_dtype(t, [&](auto z) {
    using T = decltype(z);
    sum_squares_partial<T><<<blocks, kThreads, 0, stream_>>>(static_cast<const T*>(x), rows, r.n,
                                                            total, part);
    FLARE_CUDA_LAUNCHED(sum_squares_partial);
  });
  double* out = static_cast<double*>(result_dev_);
  sum_partials<<<1, kThreads, 0, stream_>>>(part, blocks, out);
  FLARE_CUDA_LAUNCHED(sum_partials);
  alloc_.deallocate(part);  // stream order: reused only by work queued after these kernels
  FLARE_CUDA_CHECK(cudaMemcpyAsync(result_host_, out, sizeof(double), cudaMemcpyDeviceToHost,
                                   stream_));
  FLARE_CUDA_CHECK(cudaStreamSynchronize(stream_));
  counters::waits.fetch_add(1, std::memory_order_relaxed);
  return *static_cast<double*>(result_host_);
}

#undef FLARE_OPTIM_PROLOGUE

}  // namespace flare::cuda
