// Reductions and softmax over the middle axis of an [outer, mid, inner] view. With inner == 1
// (contiguous rows, the common case) one block reduces one row; otherwise one thread walks one
// (outer, inner) column, neighbouring threads reading neighbouring columns.
#include <cmath>

#include "cuda/cuda_backend.h"
#include "cuda/launch.cuh"

namespace flare::cuda {
namespace {

// Threads per row: enough to keep rows of `mid` elements busy, few for short rows.
int row_threads(int64_t mid) { return mid <= 64 ? 32 : mid <= 512 ? 128 : 256; }
unsigned row_blocks(int64_t rows) { return unsigned(rows < (int64_t(1) << 16) ? rows : (int64_t(1) << 16)); }

template <typename T>
__device__ T row_max(const T* x, int64_t mid) {
  T v = T(-INFINITY);
  for (int64_t m = threadIdx.x; m < mid; m += blockDim.x) v = MaxOp()(v, x[m]);
  return block_all_reduce(v, MaxOp());
}

// ---- reduce ----

template <typename T>
__global__ void reduce_rows(Reduce f, T* y, const T* x, int64_t rows, int64_t mid) {
  for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
    const T* xr = x + r * mid;
    T v;
    if (f == Reduce::Sum) {
      T s = 0;
      for (int64_t m = threadIdx.x; m < mid; m += blockDim.x) s += xr[m];
      v = block_all_reduce(s, SumOp());
    } else if (f == Reduce::Max) {
      v = row_max(xr, mid);
    } else if (f == Reduce::Min) {
      T s = T(INFINITY);
      for (int64_t m = threadIdx.x; m < mid; m += blockDim.x) s = MinOp()(s, xr[m]);
      v = block_all_reduce(s, MinOp());
    } else {
      // LogSumExp, shifted by the maximum so exp cannot overflow.
      const T mx = row_max(xr, mid);
      T s = 0;
      if (isfinite(mx))
        for (int64_t m = threadIdx.x; m < mid; m += blockDim.x) s += exp(xr[m] - mx);
      s = block_all_reduce(s, SumOp());
      v = isfinite(mx) ? mx + log(s) : mx;
    }
    if (threadIdx.x == 0) y[r] = v;
  }
}

template <typename T>
__global__ void reduce_cols(Reduce f, T* y, const T* x, int64_t outer, int64_t mid, int64_t inner) {
  FLARE_GRID_LOOP(k, outer * inner) {
    const int64_t o = k / inner, i = k - o * inner;
    const T* p = x + o * mid * inner + i;
    T v;
    if (f == Reduce::Sum) {
      v = 0;
      for (int64_t m = 0; m < mid; ++m) v += p[m * inner];
    } else if (f == Reduce::Max || f == Reduce::LogSumExp) {
      v = T(-INFINITY);
      for (int64_t m = 0; m < mid; ++m) v = MaxOp()(v, p[m * inner]);
      if (f == Reduce::LogSumExp && isfinite(v)) {
        T s = 0;
        for (int64_t m = 0; m < mid; ++m) s += exp(p[m * inner] - v);
        v += log(s);
      }
    } else {
      v = T(INFINITY);
      for (int64_t m = 0; m < mid; ++m) v = MinOp()(v, p[m * inner]);
    }
    y[k] = v;
  }
}

// ---- reduce_grad ----

// Sum and LogSumExp: every element gets a share, so one thread per element of x.
template <typename T>
__global__ void reduce_grad_each(bool lse, T* dx, const T* x, const T* y, const T* dy,
                                 int64_t outer, int64_t mid, int64_t inner, T alpha) {
  FLARE_GRID_LOOP(k, outer * mid * inner) {
    const int64_t o = k / (mid * inner), i = k % inner;
    const int64_t r = o * inner + i;
    const T g = alpha * dy[r];
    dx[k] += lse ? g * exp(x[k] - y[r]) : g;
  }
}

// Max and Min, rows: the block finds the first position holding the extremum.
template <typename T>
__global__ void extremum_grad_rows(T* dx, const T* x, const T* y, const T* dy, int64_t rows,
                                   int64_t mid, T alpha) {
  for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
    const T* xr = x + r * mid;
    const T best = y[r];
    long long first = mid;  // this thread's first match (positions are strided by blockDim)
    for (int64_t m = threadIdx.x; m < mid; m += blockDim.x)
      if (xr[m] == best) {
        first = m;
        break;
      }
    first = block_all_reduce(first, MinOp());
    if (threadIdx.x == 0 && first < mid) dx[r * mid + first] += alpha * dy[r];
  }
}

template <typename T>
__global__ void extremum_grad_cols(T* dx, const T* x, const T* y, const T* dy, int64_t outer,
                                   int64_t mid, int64_t inner, T alpha) {
  FLARE_GRID_LOOP(k, outer * inner) {
    const int64_t o = k / inner, i = k - o * inner;
    const int64_t base = o * mid * inner + i;
    for (int64_t m = 0; m < mid; ++m)
      if (x[base + m * inner] == y[k]) {
        dx[base + m * inner] += alpha * dy[k];
        break;
      }
  }
}

// ---- softmax ----

template <typename T>
__global__ void softmax_rows(T* y, const T* x, int64_t rows, int64_t mid, bool log_out) {
  for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
    const T* xr = x + r * mid;
    T* yr = y + r * mid;
    const T mx = row_max(xr, mid);
    T s = 0;
    for (int64_t m = threadIdx.x; m < mid; m += blockDim.x) s += exp(xr[m] - mx);
    s = block_all_reduce(s, SumOp());
    if (log_out) {
      const T lse = mx + log(s);
      for (int64_t m = threadIdx.x; m < mid; m += blockDim.x) yr[m] = xr[m] - lse;
    } else {
      const T inv = T(1) / s;
      for (int64_t m = threadIdx.x; m < mid; m += blockDim.x) yr[m] = exp(xr[m] - mx) * inv;
    }
  }
}

template <typename T>
__global__ void softmax_cols(T* y, const T* x, int64_t outer, int64_t mid, int64_t inner,
                             bool log_out) {
  FLARE_GRID_LOOP(k, outer * inner) {
    const int64_t o = k / inner, i = k - o * inner;
    const T* p = x + o * mid * inner + i;
    T* q = y + o * mid * inner + i;
    T mx = T(-INFINITY);
    for (int64_t m = 0; m < mid; ++m) mx = MaxOp()(mx, p[m * inner]);
    T s = 0;
    for (int64_t m = 0; m < mid; ++m) s += exp(p[m * inner] - mx);
    if (log_out) {
      const T lse = mx + log(s);
      for (int64_t m = 0; m < mid; ++m) q[m * inner] = p[m * inner] - lse;
    } else {
      const T inv = T(1) / s;
      for (int64_t m = 0; m < mid; ++m) q[m * inner] = exp(p[m * inner] - mx) * inv;
    }
  }
}

// log: dx += dy - softmax(x) * sum(dy);  plain: dx += y * (dy - <dy, y>).
template <typename T>
__global__ void softmax_grad_rows(T* dx, const T* y, const T* dy, int64_t rows, int64_t mid,
                                  bool log_out) {
  for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
    const int64_t base = r * mid;
    T s = 0;
    for (int64_t m = threadIdx.x; m < mid; m += blockDim.x)
      s += log_out ? dy[base + m] : dy[base + m] * y[base + m];
    s = block_all_reduce(s, SumOp());
    for (int64_t m = threadIdx.x; m < mid; m += blockDim.x) {
      const int64_t e = base + m;
      dx[e] += log_out ? dy[e] - exp(y[e]) * s : y[e] * (dy[e] - s);
    }
  }
}

template <typename T>
__global__ void softmax_grad_cols(T* dx, const T* y, const T* dy, int64_t outer, int64_t mid,
                                  int64_t inner, bool log_out) {
  FLARE_GRID_LOOP(k, outer * inner) {
    const int64_t o = k / inner, i = k - o * inner;
    const int64_t base = o * mid * inner + i;
    T s = 0;
    for (int64_t m = 0; m < mid; ++m) {
      const int64_t e = base + m * inner;
      s += log_out ? dy[e] : dy[e] * y[e];
    }
    for (int64_t m = 0; m < mid; ++m) {
      const int64_t e = base + m * inner;
      dx[e] += log_out ? dy[e] - exp(y[e]) * s : y[e] * (dy[e] - s);
    }
  }
}

}  // namespace

void CudaBackend::reduce(Reduce f, DType t, void* y, const void* x, int64_t outer, int64_t mid,
                         int64_t inner) {
  if (outer <= 0 || inner <= 0) return;
  activate();
  dispatch_dtype(t, [&](auto z) {
    using T = decltype(z);
    T* py = static_cast<T*>(y);
    const T* px = static_cast<const T*>(x);
    if (inner == 1) {
      reduce_rows<T><<<row_blocks(outer), row_threads(mid), 0, stream_>>>(f, py, px, outer, mid);
    } else {
      reduce_cols<T><<<blocks_for(outer * inner), kThreads, 0, stream_>>>(f, py, px, outer, mid,
                                                                          inner);
    }
    FLARE_CUDA_LAUNCHED(reduce);
  });
}

void CudaBackend::reduce_grad(Reduce f, DType t, void* dx, const void* x, const void* y,
                              const void* dy, int64_t outer, int64_t mid, int64_t inner,
                              double alpha) {
  if (outer <= 0 || mid <= 0 || inner <= 0) return;
  activate();
  dispatch_dtype(t, [&](auto z) {
    using T = decltype(z);
    T* d = static_cast<T*>(dx);
    const T* px = static_cast<const T*>(x);
    const T* py = static_cast<const T*>(y);
    const T* pdy = static_cast<const T*>(dy);
    if (f == Reduce::Sum || f == Reduce::LogSumExp) {
      reduce_grad_each<T><<<blocks_for(outer * mid * inner), kThreads, 0, stream_>>>(
          f == Reduce::LogSumExp, d, px, py, pdy, outer, mid, inner, T(alpha));
    } else if (inner == 1) {
      extremum_grad_rows<T><<<row_blocks(outer), row_threads(mid), 0, stream_>>>(
          d, px, py, pdy, outer, mid, T(alpha));
    } else {
      extremum_grad_cols<T><<<blocks_for(outer * inner), kThreads, 0, stream_>>>(
          d, px, py, pdy, outer, mid, inner, T(alpha));
    }
    FLARE_CUDA_LAUNCHED(reduce_grad);
  });
}

void CudaBackend::softmax(DType t, void* y, const void* x, int64_t outer, int64_t mid,
                          int64_t inner, bool log) {
  if (outer <= 0 || mid <= 0 || inner <= 0) return;
  activate();
  dispatch_dtype(t, [&](auto z) {
    using T = decltype(z);
    T* py = static_cast<T*>(y);
    const T* px = static_cast<const T*>(x);
    if (inner == 1) {
      softmax_rows<T><<<row_blocks(outer), row_threads(mid), 0, stream_>>>(py, px, outer, mid, log);
    } else {
      softmax_cols<T><<<blocks_for(outer * inner), kThreads, 0, stream_>>>(py, px, outer, mid,
                                                                           inner, log);
    }
    FLARE_CUDA_LAUNCHED(softmax);
  });
}

void CudaBackend::softmax_grad(DType t, void* dx, const void* y, const void* dy, int64_t outer,
                               int64_t mid, int64_t inner, bool log) {
  if (outer <= 0 || mid <= 0 || inner <= 0) return;
  activate();
  dispatch_dtype(t, [&](auto z) {
    using T = decltype(z);
    T* d = static_cast<T*>(dx);
    const T* py = static_cast<const T*>(y);
    const T* pdy = static_cast<const T*>(dy);
    if (inner == 1) {
      softmax_grad_rows<T><<<row_blocks(outer), row_threads(mid), 0, stream_>>>(d, py, pdy, outer,
                                                                                mid, log);
    } else {
      softmax_grad_cols<T><<<blocks_for(outer * inner), kThreads, 0, stream_>>>(
          d, py, pdy, outer, mid, inner, log);
    }
    FLARE_CUDA_LAUNCHED(softmax_grad);
  });
}

}  // namespace flare::cuda
