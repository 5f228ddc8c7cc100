// The LSTM cell's element-wise step on the CPU: one pass over each row, the gates' activations
// combined by the shared functors (backend/functors.h), so the math is defined once. How a row
// is walked is a lane policy: float on AVX2 eight lanes at a time (activations from
// cpu_vecmath.h, the tail of a row loaded and stored masked), anything else one element at a
// time (activations from the functors, as the unary kernel computes them).
//
// The vector pass matters because rows are short (hidden sizes of 50-128): through the unary
// kernel each row cost five to ten calls, each with a scalar tail when the size is not a
// multiple of eight, and a round trip through scratch arrays. A row's lanes never depend on how
// many rows a call has, so an auto-batched step computes exactly what eager steps compute.
#include <type_traits>

#include "backend/cpu_backend.h"
#include "backend/cpu_vecmath.h"
#include "backend/functors.h"

namespace flare {
namespace {

// One element at a time, for any type.
template <typename T>
struct ScalarLanes {
  using V = T;
  static constexpr int64_t kWidth = 1;
  explicit ScalarLanes(int64_t) {}
  V load(const T* p) const { return *p; }
  void store(T* p, V x) const { *p = x; }
  void add(T* p, V x) const { *p += x; }
  static V zero() { return T(0); }
  static V sigmoid(V x) { return fn::unary<Unary::Sigmoid>(x, T(0)); }
  static V tanh(V x) { return fn::unary<Unary::Tanh>(x, T(0)); }
};

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

// Lanes [0, n) of eight floats, n <= 8: the tail of a row whose size is not a multiple of eight
// is loaded and stored masked, so it takes the same vector math as the rest.
class F8Lanes {
 public:
  using V = F8;
  static constexpr int64_t kWidth = 8;
  explicit F8Lanes(int64_t n) : full_(n == 8) {
    alignas(32) int32_t m[8];
    for (int k = 0; k < 8; ++k) m[k] = k < n ? -1 : 0;
    mask_ = _mm256_load_si256(reinterpret_cast<const __m256i*>(m));
  }
  V load(const float* p) const { return full_ ? _mm256_loadu_ps(p) : _mm256_maskload_ps(p, mask_); }
  void store(float* p, V x) const {
    if (full_)
      _mm256_storeu_ps(p, x.v);
    else
      _mm256_maskstore_ps(p, mask_, x.v);
  }
  void add(float* p, V x) const { store(p, load(p) + x); }
  static V zero() { return _mm256_setzero_ps(); }
  static V sigmoid(V x) { return vecmath::sigmoid(x.v); }
  static V tanh(V x) { return vecmath::tanh(x.v); }

 private:
  bool full_;
  __m256i mask_;
};
#endif

// Backend::lstm and lstm_grad for element type T, rows walked by lane policy P.
template <typename T, typename P>
struct LstmRows {
  using Elem = T;
  using V = typename P::V;
  LstmGates L;
  int64_t h;

  // Block k of example b's gates, from element j.
  const T* block(const T* a, int64_t b, int32_t k, int64_t j) const { return a + (L.blocks * b + k) * h + j; }
  T* block(T* a, int64_t b, int32_t k, int64_t j) const { return a + (L.blocks * b + k) * h + j; }

  // f(b, j, lanes) for every slice of P::kWidth lanes of every row.
  template <typename F>
  void each(int64_t batch, F&& f) const {
    const P full(P::kWidth), tail(h % P::kWidth ? h % P::kWidth : P::kWidth);
    for (int64_t b = 0; b < batch; ++b) {
      int64_t j = 0;
      for (; j + P::kWidth <= h; j += P::kWidth) f(b, j, full);
      if (j < h) f(b, j, tail);
    }
  }

  void forward(LstmPart part, T* y, const T* a, const T* c0, const T* c1, int64_t batch) const {
    if (part == LstmPart::Output) {
      each(batch, [&](int64_t b, int64_t j, const P& m) {
        const int64_t at = b * h + j;
        m.store(y + at, fn::lstm_output(P::sigmoid(m.load(block(a, b, L.o, j))), P::tanh(m.load(c0 + at))));
      });
      return;
    }
    each(batch, [&](int64_t b, int64_t j, const P& m) {
      const int64_t at = b * h + j;
      const V si = P::sigmoid(m.load(block(a, b, L.i, j))), tg = P::tanh(m.load(block(a, b, L.g, j)));
      V c = c0 ? fn::lstm_state(si, P::sigmoid(m.load(block(a, b, L.f[0], j))), tg, m.load(c0 + at))
               : fn::lstm_state(si, P::zero(), tg, P::zero());
      if (c1) c = c + fn::lstm_forget(P::sigmoid(m.load(block(a, b, L.f[1], j))), m.load(c1 + at));
      m.store(y + at, c);
    });
  }

  void backward(LstmPart part, T* da, T* dc0, T* dc1, const T* a, const T* c0, const T* c1, const T* dy,
                int64_t batch) const {
    if (part == LstmPart::Output) {
      each(batch, [&](int64_t b, int64_t j, const P& m) {
        const int64_t at = b * h + j;
        V vo = P::zero(), vc = P::zero();
        fn::lstm_output_grad(P::sigmoid(m.load(block(a, b, L.o, j))), P::tanh(m.load(c0 + at)), m.load(dy + at), vo,
                             vc);
        if (da) m.add(block(da, b, L.o, j), vo);
        if (dc0) m.add(dc0 + at, vc);
      });
      return;
    }
    each(batch, [&](int64_t b, int64_t j, const P& m) {
      const int64_t at = b * h + j;
      const V g = m.load(dy + at);
      const V si = P::sigmoid(m.load(block(a, b, L.i, j))), tg = P::tanh(m.load(block(a, b, L.g, j)));
      const V sf = c0 ? P::sigmoid(m.load(block(a, b, L.f[0], j))) : P::zero();
      V vi = P::zero(), vf = P::zero(), vg = P::zero(), vc = P::zero();
      fn::lstm_state_grad(si, sf, tg, c0 ? m.load(c0 + at) : P::zero(), g, vi, vf, vg, vc);
      if (da) {
        m.add(block(da, b, L.i, j), vi);
        m.add(block(da, b, L.g, j), vg);
        if (c0) m.add(block(da, b, L.f[0], j), vf);
      }
      if (dc0) m.add(dc0 + at, vc);
      if (c1) {
        fn::lstm_forget_grad(P::sigmoid(m.load(block(a, b, L.f[1], j))), m.load(c1 + at), g, vf, vc);
        if (da) m.add(block(da, b, L.f[1], j), vf);
        if (dc1) m.add(dc1 + at, vc);
      }
    });
  }
};

// f(LstmRows<T, policy>{L, h}) with the policy for t: eight lanes for float on AVX2.
template <typename F>
void with_rows(DType t, LstmGates L, int64_t h, F&& f) {
#ifdef FLARE_HAVE_VECMATH
  if (t == DType::f32) return f(LstmRows<float, F8Lanes>{L, h});
#endif
  dispatch_dtype(t, [&](auto z) {
    using T = decltype(z);
    f(LstmRows<T, ScalarLanes<T>>{L, h});
  });
}

}  // namespace

void CpuBackend::lstm(LstmPart part, DType t, void* y, const void* a, const void* c0, const void* c1,
                      LstmGates L, int64_t batch, int64_t h) {
  with_rows(t, L, h, [&](const auto& rows) {
    using T = typename std::decay_t<decltype(rows)>::Elem;
    rows.forward(part, static_cast<T*>(y), static_cast<const T*>(a), static_cast<const T*>(c0),
                 static_cast<const T*>(c1), batch);
  });
}

void CpuBackend::lstm_grad(LstmPart part, DType t, void* da, void* dc0, void* dc1, const void* a,
                           const void* c0, const void* c1, const void* dy, LstmGates L, int64_t batch,
                           int64_t h) {
  with_rows(t, L, h, [&](const auto& rows) {
    using T = typename std::decay_t<decltype(rows)>::Elem;
    rows.backward(part, static_cast<T*>(da), static_cast<T*>(dc0), static_cast<T*>(dc1), static_cast<const T*>(a),
                  static_cast<const T*>(c0), static_cast<const T*>(c1), static_cast<const T*>(dy), batch);
  });
}

}  // namespace flare
