// The LSTM cell's element-wise step on CUDA: one thread per element of each example's hidden
// state, the math from the shared functors (backend/functors.h). Each thread owns its outputs,
// so gradients accumulate without atomics.
#include "backend/functors.h"
#include "cuda/cuda_backend.h"
#include "cuda/launch.cuh"

namespace flare::cuda {
namespace {

// Example b's gate block k, element j.
__device__ __forceinline__ int64_t at(const LstmGates& L, int64_t h, int64_t b, int32_t k, int64_t j) {
  return (int64_t(L.blocks) * b + k) * h + j;
}

template <typename T>
__global__ void lstm_state_kernel(T* y, const T* a, const T* c0, const T* c1, LstmGates L, int64_t batch, int64_t h) {
  FLARE_GRID_LOOP(k, batch * h) {
    const int64_t b = k / h, j = k - b * h;
    const T si = fn::sigmoid(a[at(L, h, b, L.i, j)]), tg = T(tanh(a[at(L, h, b, L.g, j)]));
    T v = c0 ? fn::lstm_state(si, fn::sigmoid(a[at(L, h, b, L.f[0], j)]), tg, c0[k])
             : fn::lstm_state(si, T(0), tg, T(0));
    if (c1) v += fn::lstm_forget(fn::sigmoid(a[at(L, h, b, L.f[1], j)]), c1[k]);
    y[k] = v;
  }
}

template <typename T>
__global__ void lstm_output_kernel(T* y, const T* a, const T* c, LstmGates L, int64_t batch, int64_t h) {
  FLARE_GRID_LOOP(k, batch * h) {
    const int64_t b = k / h, j = k - b * h;
    y[k] = fn::lstm_output(fn::sigmoid(a[at(L, h, b, L.o, j)]), T(tanh(c[k])));
  }
}

template <typename T>
__global__ void lstm_state_grad_kernel(T* da, T* dc0, T* dc1, const T* a, const T* c0, const T* c1, const T* dy,
                                       LstmGates L, int64_t batch, int64_t h) {
  FLARE_GRID_LOOP(k, batch * h) {
    const int64_t b = k / h, j = k - b * h;
    const T si = fn::sigmoid(a[at(L, h, b, L.i, j)]), tg = T(tanh(a[at(L, h, b, L.g, j)]));
    const T sf = c0 ? fn::sigmoid(a[at(L, h, b, L.f[0], j)]) : T(0);
    T di, df, dg, dc;
    fn::lstm_state_grad(si, sf, tg, c0 ? c0[k] : T(0), dy[k], di, df, dg, dc);
    if (da) {
      da[at(L, h, b, L.i, j)] += di;
      da[at(L, h, b, L.g, j)] += dg;
      if (c0) da[at(L, h, b, L.f[0], j)] += df;
    }
    if (dc0) dc0[k] += dc;
    if (c1) {
      fn::lstm_forget_grad(fn::sigmoid(a[at(L, h, b, L.f[1], j)]), c1[k], dy[k], df, dc);
      if (da) da[at(L, h, b, L.f[1], j)] += df;
      if (dc1) dc1[k] += dc;
    }
  }
}

template <typename T>
__global__ void lstm_output_grad_kernel(T* da, T* dc, const T* a, const T* c, const T* dy, LstmGates L, int64_t batch,
                                        int64_t h) {
  FLARE_GRID_LOOP(k, batch * h) {
    const int64_t b = k / h, j = k - b * h;
    T d_o, dcv;
    fn::lstm_output_grad(fn::sigmoid(a[at(L, h, b, L.o, j)]), T(tanh(c[k])), dy[k], d_o, dcv);
    if (da) da[at(L, h, b, L.o, j)] += d_o;
    if (dc) dc[k] += dcv;
  }
}

}  // namespace

void CudaBackend::lstm(LstmPart part, DType t, void* y, const void* a, const void* c0, const void* c1, LstmGates L,
                       int64_t batch, int64_t h) {
  const int64_t n = batch * h;
  if (n <= 0) return;
  activate();
  dispatch_dtype(t, [&](auto z) {
    using T = decltype(z);
    T* py = static_cast<T*>(y);
    const T* pa = static_cast<const T*>(a);
    const T* p0 = static_cast<const T*>(c0);
    if (part == LstmPart::State) {
      lstm_state_kernel<T><<<blocks_for(n), kThreads, 0, stream_>>>(py, pa, p0, static_cast<const T*>(c1), L, batch, h);
      FLARE_CUDA_LAUNCHED(lstm_state_kernel);
    } else {
      lstm_output_kernel<T><<<blocks_for(n), kThreads, 0, stream_>>>(py, pa, p0, L, batch, h);
      FLARE_CUDA_LAUNCHED(lstm_output_kernel);
    }
  });
}

void CudaBackend::lstm_grad(LstmPart part, DType t, void* da, void* dc0, void* dc1, const void* a, const void* c0,
                            const void* c1, const void* dy, LstmGates L, int64_t batch, int64_t h) {
  const int64_t n = batch * h;
  if (n <= 0 || (!da && !dc0 && !dc1)) return;
  activate();
  dispatch_dtype(t, [&](auto z) {
    using T = decltype(z);
    T* pda = static_cast<T*>(da);
    const T* pa = static_cast<const T*>(a);
    const T* p0 = static_cast<const T*>(c0);
    const T* pdy = static_cast<const T*>(dy);
    if (part == LstmPart::State) {
      lstm_state_grad_kernel<T><<<blocks_for(n), kThreads, 0, stream_>>>(
          pda, static_cast<T*>(dc0), static_cast<T*>(dc1), pa, p0, static_cast<const T*>(c1), pdy, L, batch, h);
      FLARE_CUDA_LAUNCHED(lstm_state_grad_kernel);
    } else {
      lstm_output_grad_kernel<T><<<blocks_for(n), kThreads, 0, stream_>>>(pda, static_cast<T*>(dc0), pa, p0, pdy, L,
                                                                          batch, h);
      FLARE_CUDA_LAUNCHED(lstm_output_grad_kernel);
    }
  });
}

}  // namespace flare::cuda
