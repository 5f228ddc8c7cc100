// The LSTM cell's element-wise step on the CPU. The activations are computed a chunk at a time
// through the unary kernel, so float takes its AVX2 paths; the shared functors
// (backend/functors.h) combine them in plain loops that vectorise.
#include <algorithm>

#include "backend/cpu_backend.h"
#include "backend/functors.h"

namespace flare {
namespace {

constexpr int64_t kChunk = 256;  // elements per pass: the activations stay in L1

template <typename T>
struct LstmKernels {
  CpuBackend& be;
  DType t;

  // s0, s1, s2 = the activations the part reads, for elements [j0, j0 + m) of one example.
  void activate(LstmPart part, const T* a, const T* c, int64_t h, int64_t j0, int64_t m, T* s0, T* s1,
                T* s2) {
    if (part == LstmPart::State) {
      be.unary(Unary::Sigmoid, t, s0, a + j0, m, 0.0);          // i
      be.unary(Unary::Sigmoid, t, s1, a + h + j0, m, 0.0);      // f
      be.unary(Unary::Tanh, t, s2, a + 2 * h + j0, m, 0.0);     // g
    } else {
      be.unary(Unary::Sigmoid, t, s0, a + 3 * h + j0, m, 0.0);  // o
      be.unary(Unary::Tanh, t, s1, c + j0, m, 0.0);             // the new state
    }
  }

  void forward(LstmPart part, T* y, const T* a, const T* c, int64_t batch, int64_t h) {
    T s0[kChunk], s1[kChunk], s2[kChunk];
    for (int64_t b = 0; b < batch; ++b) {
      const T* ab = a + 4 * b * h;
      const T* cb = c ? c + b * h : nullptr;
      T* yb = y + b * h;
      for (int64_t j0 = 0; j0 < h; j0 += kChunk) {
        const int64_t m = std::min(kChunk, h - j0);
        activate(part, ab, cb, h, j0, m, s0, s1, s2);
        T* yj = yb + j0;
        if (part == LstmPart::Output)
          for (int64_t j = 0; j < m; ++j) yj[j] = fn::lstm_output(s0[j], s1[j]);
        else if (cb)
          for (int64_t j = 0; j < m; ++j) yj[j] = fn::lstm_state(s0[j], s1[j], s2[j], cb[j0 + j]);
        else
          for (int64_t j = 0; j < m; ++j) yj[j] = fn::lstm_state(s0[j], s1[j], s2[j], T(0));
      }
    }
  }

  void backward(LstmPart part, T* da, T* dc, const T* a, const T* c, const T* dy, int64_t batch,
                int64_t h) {
    T s0[kChunk], s1[kChunk], s2[kChunk];
    for (int64_t b = 0; b < batch; ++b) {
      const T* ab = a + 4 * b * h;
      const T* cb = c ? c + b * h : nullptr;
      T* dab = da ? da + 4 * b * h : nullptr;
      T* dcb = dc ? dc + b * h : nullptr;
      for (int64_t j0 = 0; j0 < h; j0 += kChunk) {
        const int64_t m = std::min(kChunk, h - j0);
        activate(part, ab, cb, h, j0, m, s0, s1, s2);
        const T* g = dy + b * h + j0;
        if (part == LstmPart::State) {
          T* di = dab ? dab + j0 : nullptr;
          for (int64_t j = 0; j < m; ++j) {
            T vi, vf, vg, vc;
            fn::lstm_state_grad(s0[j], s1[j], s2[j], cb ? cb[j0 + j] : T(0), g[j], vi, vf, vg, vc);
            if (di) di[j] += vi, di[h + j] += vf, di[2 * h + j] += vg;
            if (dcb) dcb[j0 + j] += vc;
          }
        } else {
          T* d_o = dab ? dab + 3 * h + j0 : nullptr;
          for (int64_t j = 0; j < m; ++j) {
            T vo, vc;
            fn::lstm_output_grad(s0[j], s1[j], g[j], vo, vc);
            if (d_o) d_o[j] += vo;
            if (dcb) dcb[j0 + j] += vc;
          }
        }
      }
    }
  }
};

}  // namespace

void CpuBackend::lstm(LstmPart part, DType t, void* y, const void* a, const void* c, int64_t batch,
                      int64_t h) {
  dispatch_dtype(t, [&](auto z) {
    using T = decltype(z);
    LstmKernels<T>{*this, t}.forward(part, static_cast<T*>(y), static_cast<const T*>(a),
                                     static_cast<const T*>(c), batch, h);
  });
}

void CpuBackend::lstm_grad(LstmPart part, DType t, void* da, void* dc, const void* a, const void* c,
                           const void* dy, int64_t batch, int64_t h) {
  dispatch_dtype(t, [&](auto z) {
    using T = decltype(z);
    LstmKernels<T>{*this, t}.backward(part, static_cast<T*>(da), static_cast<T*>(dc),
                                      static_cast<const T*>(a), static_cast<const T*>(c),
                                      static_cast<const T*>(dy), batch, h);
  });
}

}  // namespace flare
