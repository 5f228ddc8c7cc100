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
  LstmGates L;
  int64_t h;

  // Block k of example b's gates, from element j0.
  const T* block(const T* a, int64_t b, int32_t k, int64_t j0) const { return a + (L.blocks * b + k) * h + j0; }
  T* block(T* a, int64_t b, int32_t k, int64_t j0) const { return a + (L.blocks * b + k) * h + j0; }
  void act(Unary f, T* y, const T* x, int64_t m) { be.unary(f, t, y, x, m, 0.0); }

  void forward(LstmPart part, T* y, const T* a, const T* c0, const T* c1, int64_t batch) {
    T s0[kChunk], s1[kChunk], s2[kChunk];
    for (int64_t b = 0; b < batch; ++b) {
      for (int64_t j0 = 0; j0 < h; j0 += kChunk) {
        const int64_t m = std::min(kChunk, h - j0), at = b * h + j0;
        T* yj = y + at;
        if (part == LstmPart::Output) {
          act(Unary::Sigmoid, s0, block(a, b, L.o, j0), m);
          act(Unary::Tanh, s1, c0 + at, m);
          for (int64_t j = 0; j < m; ++j) yj[j] = fn::lstm_output(s0[j], s1[j]);
          continue;
        }
        act(Unary::Sigmoid, s0, block(a, b, L.i, j0), m);
        act(Unary::Tanh, s2, block(a, b, L.g, j0), m);
        if (c0) {
          act(Unary::Sigmoid, s1, block(a, b, L.f[0], j0), m);
          for (int64_t j = 0; j < m; ++j) yj[j] = fn::lstm_state(s0[j], s1[j], s2[j], c0[at + j]);
        } else {
          for (int64_t j = 0; j < m; ++j) yj[j] = fn::lstm_state(s0[j], T(0), s2[j], T(0));
        }
        if (c1) {
          act(Unary::Sigmoid, s1, block(a, b, L.f[1], j0), m);
          for (int64_t j = 0; j < m; ++j) yj[j] += fn::lstm_forget(s1[j], c1[at + j]);
        }
      }
    }
  }

  void backward(LstmPart part, T* da, T* dc0, T* dc1, const T* a, const T* c0, const T* c1, const T* dy,
                int64_t batch) {
    T s0[kChunk], s1[kChunk], s2[kChunk];
    for (int64_t b = 0; b < batch; ++b) {
      for (int64_t j0 = 0; j0 < h; j0 += kChunk) {
        const int64_t m = std::min(kChunk, h - j0), at = b * h + j0;
        const T* g = dy + at;
        if (part == LstmPart::Output) {
          act(Unary::Sigmoid, s0, block(a, b, L.o, j0), m);
          act(Unary::Tanh, s1, c0 + at, m);
          T* d_o = da ? block(da, b, L.o, j0) : nullptr;
          for (int64_t j = 0; j < m; ++j) {
            T vo, vc;
            fn::lstm_output_grad(s0[j], s1[j], g[j], vo, vc);
            if (d_o) d_o[j] += vo;
            if (dc0) dc0[at + j] += vc;
          }
          continue;
        }
        act(Unary::Sigmoid, s0, block(a, b, L.i, j0), m);
        act(Unary::Tanh, s2, block(a, b, L.g, j0), m);
        if (c0)
          act(Unary::Sigmoid, s1, block(a, b, L.f[0], j0), m);
        else
          std::fill(s1, s1 + m, T(0));
        T* di = da ? block(da, b, L.i, j0) : nullptr;
        T* dg = da ? block(da, b, L.g, j0) : nullptr;
        T* df = da && c0 ? block(da, b, L.f[0], j0) : nullptr;
        for (int64_t j = 0; j < m; ++j) {
          T vi, vf, vg, vc;
          fn::lstm_state_grad(s0[j], s1[j], s2[j], c0 ? c0[at + j] : T(0), g[j], vi, vf, vg, vc);
          if (di) di[j] += vi, dg[j] += vg;
          if (df) df[j] += vf;
          if (dc0) dc0[at + j] += vc;
        }
        if (c1) {
          act(Unary::Sigmoid, s1, block(a, b, L.f[1], j0), m);
          T* df1 = da ? block(da, b, L.f[1], j0) : nullptr;
          for (int64_t j = 0; j < m; ++j) {
            T vf, vc;
            fn::lstm_forget_grad(s1[j], c1[at + j], g[j], vf, vc);
            if (df1) df1[j] += vf;
            if (dc1) dc1[at + j] += vc;
          }
        }
      }
    }
  }
};

}  // namespace

void CpuBackend::lstm(LstmPart part, DType t, void* y, const void* a, const void* c0, const void* c1,
                      LstmGates L, int64_t batch, int64_t h) {
  dispatch_dtype(t, [&](auto z) {
    using T = decltype(z);
    LstmKernels<T>{*this, t, L, h}.forward(part, static_cast<T*>(y), static_cast<const T*>(a),
                                           static_cast<const T*>(c0), static_cast<const T*>(c1), batch);
  });
}

void CpuBackend::lstm_grad(LstmPart part, DType t, void* da, void* dc0, void* dc1, const void* a,
                           const void* c0, const void* c1, const void* dy, LstmGates L, int64_t batch,
                           int64_t h) {
  dispatch_dtype(t, [&](auto z) {
    using T = decltype(z);
    LstmKernels<T>{*this, t, L, h}.backward(part, static_cast<T*>(da), static_cast<T*>(dc0),
                                            static_cast<T*>(dc1), static_cast<const T*>(a),
                                            static_cast<const T*>(c0), static_cast<const T*>(c1),
                                            static_cast<const T*>(dy), batch);
  });
}

}  // namespace flare
