// The LSTM cell's element-wise step on CUDA: one thread per element of each example's hidden
// state, the math from the shared functors (backend/functors.h). Each thread owns its outputs,
// so gradients accumulate without atomics.
#include "backend/functors.h"
#include "cuda/cuda_backend.h"
#include "cuda/launch.cuh"

namespace flare::cuda {
namespace {

template <typename T>
__global__ void lstm_state_kernel(T* y, const T* a, const T* c, int64_t batch, int64_t h) {
  FLARE_GRID_LOOP(k, batch * h) {
    const int64_t b = k / h, j = k - b * h;
    const T* ab = a + 4 * b * h + j;
    y[k] = fn::lstm_state(fn::sigmoid(ab[0]), fn::sigmoid(ab[h]), T(tanh(ab[2 * h])), c ? c[k] : T(0));
  }
}

template <typename T>
__global__ void lstm_output_kernel(T* y, const T* a, const T* c, int64_t batch, int64_t h) {
  FLARE_GRID_LOOP(k, batch * h) {
    const int64_t b = k / h, j = k - b * h;
    y[k] = fn::lstm_output(fn::sigmoid(a[(4 * b + 3) * h + j]), T(tanh(c[k])));
  }
}

template <typename T>
__global__ void lstm_state_grad_kernel(T* da, T* dc, const T* a, const T* c, const T* dy, int64_t batch,
                                       int64_t h) {
  FLARE_GRID_LOOP(k, batch * h) {
    const int64_t b = k / h, j = k - b * h;
    const T* ab = a + 4 * b * h + j;
    T di, df, dg, dcv;
    fn::lstm_state_grad(fn::sigmoid(ab[0]), fn::sigmoid(ab[h]), T(tanh(ab[2 * h])), c ? c[k] : T(0), dy[k],
                        di, df, dg, dcv);
    if (da) {
      T* d = da + 4 * b * h + j;
      d[0] += di, d[h] += df, d[2 * h] += dg;
    }
    if (dc) dc[k] += dcv;
  }
}

template <typename T>
__global__ void lstm_output_grad_kernel(T* da, T* dc, const T* a, const T* c, const T* dy, int64_t batch,
                                        int64_t h) {
  FLARE_GRID_LOOP(k, batch * h) {
    const int64_t b = k / h, j = k - b * h;
    T d_o, dcv;
    fn::lstm_output_grad(fn::sigmoid(a[(4 * b + 3) * h + j]), T(tanh(c[k])), dy[k], d_o, dcv);
    if (da) da[(4 * b + 3) * h + j] += d_o;
    if (dc) dc[k] += dcv;
  }
}

}  // namespace

void CudaBackend::lstm(LstmPart part, DType t, void* y, const void* a, const void* c, int64_t batch,
                       int64_t h) {
  const int64_t n = batch * h;
  if (n <= 0) return;
  activate();
  dispatch_dtype(t, [&](auto z) {
    using T = decltype(z);
    T* py = static_cast<T*>(y);
    const T* pa = static_cast<const T*>(a);
    const T* pc = static_cast<const T*>(c);
    if (part == LstmPart::State) {
      lstm_state_kernel<T><<<blocks_for(n), kThreads, 0, stream_>>>(py, pa, pc, batch, h);
      FLARE_CUDA_LAUNCHED(lstm_state_kernel);
    } else {
      lstm_output_kernel<T><<<blocks_for(n), kThreads, 0, stream_>>>(py, pa, pc, batch, h);
      FLARE_CUDA_LAUNCHED(lstm_output_kernel);
    }
  });
}

void CudaBackend::lstm_grad(LstmPart part, DType t, void* da, void* dc, const void* a, const void* c,
                            const void* dy, int64_t batch, int64_t h) {
  const int64_t n = batch * h;
  if (n <= 0 || (!da && !dc)) return;
  activate();
  dispatch_dtype(t, [&](auto z) {
    using T = decltype(z);
    T* pda = static_cast<T*>(da);
    T* pdc = static_cast<T*>(dc);
    const T* pa = static_cast<const T*>(a);
    const T* pc = static_cast<const T*>(c);
    const T* pdy = static_cast<const T*>(dy);
    if (part == LstmPart::State) {
      lstm_state_grad_kernel<T><<<blocks_for(n), kThreads, 0, stream_>>>(pda, pdc, pa, pc, pdy, batch, h);
      FLARE_CUDA_LAUNCHED(lstm_state_grad_kernel);
    } else {
      lstm_output_grad_kernel<T><<<blocks_for(n), kThreads, 0, stream_>>>(pda, pdc, pa, pc, pdy, batch, h);
      FLARE_CUDA_LAUNCHED(lstm_output_grad_kernel);
    }
  });
}

}  // namespace flare::cuda
