// The LSTM cell's element-wise step on the CPU. Float on AVX2 runs each row in one pass of
// eight lanes at a time: the gates' activations from cpu_vecmath.h, combined by the shared
// functors (backend/functors.h) applied to whole vectors (F8 below), so the math stays defined
// once. Otherwise (double, or no AVX2) the activations are computed a chunk at a time through
// the unary kernel and the functors combine them in plain loops.
//
// The fused pass matters because rows are short (hidden sizes of 50-128): through the unary
// kernel each row cost five to ten calls, each with a scalar tail when the size is not a
// multiple of eight, and a round trip through scratch arrays. A row's lanes never depend on how
// many rows a call has, so an auto-batched step computes exactly what eager steps compute.
#include <algorithm>

#include "backend/cpu_backend.h"
#include "backend/cpu_vecmath.h"
#include "backend/functors.h"

namespace flare {
namespace {

#ifdef FLARE_HAVE_VECMATH
// Eight floats as one value for the functors, which need +, -, * and T(constant).
struct F8 {
  __m256 v;
  F8(__m256 x) : v(x) {}
  explicit F8(float x) : v(_mm256_set1_ps(x)) {}
};
inline F8 operator+(F8 a, F8 b) { return _mm256_add_ps(a.v, b.v); }
inline F8 operator-(F8 a, F8 b) { return _mm256_sub_ps(a.v, b.v); }
inline F8 operator*(F8 a, F8 b) { return _mm256_mul_ps(a.v, b.v); }

// Lanes [0, n) of a row, n <= 8: the tail of a row whose size is not a multiple of eight is
// loaded and stored masked, so it takes the same vector math as the rest.
class Lanes {
 public:
  explicit Lanes(int64_t n) : full_(n == 8) {
    alignas(32) int32_t m[8];
    for (int k = 0; k < 8; ++k) m[k] = k < n ? -1 : 0;
    mask_ = _mm256_load_si256(reinterpret_cast<const __m256i*>(m));
  }
  F8 load(const float* p) const { return full_ ? _mm256_loadu_ps(p) : _mm256_maskload_ps(p, mask_); }
  void store(float* p, F8 x) const {
    if (full_)
      _mm256_storeu_ps(p, x.v);
    else
      _mm256_maskstore_ps(p, mask_, x.v);
  }
  void add(float* p, F8 x) const { store(p, load(p) + x); }

 private:
  bool full_;
  __m256i mask_;
};

F8 sigmoid(F8 x) { return vecmath::sigmoid(x.v); }
F8 tanh(F8 x) { return vecmath::tanh(x.v); }
const F8 kZero8 = _mm256_setzero_ps();

// The fused float rows; same arguments as LstmKernels below.
struct LstmRowsF8 {
  LstmGates L;
  int64_t h;

  const float* block(const float* a, int64_t b, int32_t k, int64_t j) const { return a + (L.blocks * b + k) * h + j; }
  float* block(float* a, int64_t b, int32_t k, int64_t j) const { return a + (L.blocks * b + k) * h + j; }

  // f(b, j, lanes) for every eight-lane slice of every row.
  template <typename F>
  void each(int64_t batch, F&& f) const {
    const Lanes full(8), tail(h % 8 ? h % 8 : 8);
    for (int64_t b = 0; b < batch; ++b) {
      int64_t j = 0;
      for (; j + 8 <= h; j += 8) f(b, j, full);
      if (j < h) f(b, j, tail);
    }
  }

  void forward(LstmPart part, float* y, const float* a, const float* c0, const float* c1, int64_t batch) const {
    if (part == LstmPart::Output) {
      each(batch, [&](int64_t b, int64_t j, const Lanes& m) {
        const int64_t at = b * h + j;
        m.store(y + at, fn::lstm_output(sigmoid(m.load(block(a, b, L.o, j))), tanh(m.load(c0 + at))));
      });
      return;
    }
    each(batch, [&](int64_t b, int64_t j, const Lanes& m) {
      const int64_t at = b * h + j;
      const F8 si = sigmoid(m.load(block(a, b, L.i, j))), tg = tanh(m.load(block(a, b, L.g, j)));
      F8 c = c0 ? fn::lstm_state(si, sigmoid(m.load(block(a, b, L.f[0], j))), tg, m.load(c0 + at))
                : fn::lstm_state(si, kZero8, tg, kZero8);
      if (c1) c = c + fn::lstm_forget(sigmoid(m.load(block(a, b, L.f[1], j))), m.load(c1 + at));
      m.store(y + at, c);
    });
  }

  void backward(LstmPart part, float* da, float* dc0, float* dc1, const float* a, const float* c0, const float* c1,
                const float* dy, int64_t batch) const {
    if (part == LstmPart::Output) {
      each(batch, [&](int64_t b, int64_t j, const Lanes& m) {
        const int64_t at = b * h + j;
        F8 vo = kZero8, vc = kZero8;
        fn::lstm_output_grad(sigmoid(m.load(block(a, b, L.o, j))), tanh(m.load(c0 + at)), m.load(dy + at), vo, vc);
        if (da) m.add(block(da, b, L.o, j), vo);
        if (dc0) m.add(dc0 + at, vc);
      });
      return;
    }
    each(batch, [&](int64_t b, int64_t j, const Lanes& m) {
      const int64_t at = b * h + j;
      const F8 g = m.load(dy + at);
      const F8 si = sigmoid(m.load(block(a, b, L.i, j))), tg = tanh(m.load(block(a, b, L.g, j)));
      const F8 sf = c0 ? sigmoid(m.load(block(a, b, L.f[0], j))) : kZero8;
      F8 vi = kZero8, vf = kZero8, vg = kZero8, vc = kZero8;
      fn::lstm_state_grad(si, sf, tg, c0 ? m.load(c0 + at) : kZero8, g, vi, vf, vg, vc);
      if (da) {
        m.add(block(da, b, L.i, j), vi);
        m.add(block(da, b, L.g, j), vg);
        if (c0) m.add(block(da, b, L.f[0], j), vf);
      }
      if (dc0) m.add(dc0 + at, vc);
      if (c1) {
        fn::lstm_forget_grad(sigmoid(m.load(block(a, b, L.f[1], j))), m.load(c1 + at), g, vf, vc);
        if (da) m.add(block(da, b, L.f[1], j), vf);
        if (dc1) m.add(dc1 + at, vc);
      }
    });
  }
};
#endif

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
#ifdef FLARE_HAVE_VECMATH
  if (t == DType::f32) {
    LstmRowsF8{L, h}.forward(part, static_cast<float*>(y), static_cast<const float*>(a),
                             static_cast<const float*>(c0), static_cast<const float*>(c1), batch);
    return;
  }
#endif
  dispatch_dtype(t, [&](auto z) {
    using T = decltype(z);
    LstmKernels<T>{*this, t, L, h}.forward(part, static_cast<T*>(y), static_cast<const T*>(a),
                                           static_cast<const T*>(c0), static_cast<const T*>(c1), batch);
  });
}

void CpuBackend::lstm_grad(LstmPart part, DType t, void* da, void* dc0, void* dc1, const void* a,
                           const void* c0, const void* c1, const void* dy, LstmGates L, int64_t batch,
                           int64_t h) {
#ifdef FLARE_HAVE_VECMATH
  if (t == DType::f32) {
    LstmRowsF8{L, h}.backward(part, static_cast<float*>(da), static_cast<float*>(dc0), static_cast<float*>(dc1),
                              static_cast<const float*>(a), static_cast<const float*>(c0),
                              static_cast<const float*>(c1), static_cast<const float*>(dy), batch);
    return;
  }
#endif
  dispatch_dtype(t, [&](auto z) {
    using T = decltype(z);
    LstmKernels<T>{*this, t, L, h}.backward(part, static_cast<T*>(da), static_cast<T*>(dc0),
                                            static_cast<T*>(dc1), static_cast<const T*>(a),
                                            static_cast<const T*>(c0), static_cast<const T*>(c1),
                                            static_cast<const T*>(dy), batch);
  });
}

}  // namespace flare
