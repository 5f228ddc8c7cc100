// Reductions and softmax over the middle axis of an [outer, mid, inner] view. The common case
// inner == 1 (reduce a contiguous row) gets its own loops so they vectorise.
#include <cmath>
#include <limits>
#include <type_traits>
#include <vector>

#include "backend/cpu_backend.h"
#include "backend/cpu_vecmath.h"

namespace flare {
namespace {

template <typename T>
T reduce_row(Reduce f, const T* x, int64_t mid, int64_t stride) {
  if (f == Reduce::Sum) {
    T s = 0;
    for (int64_t m = 0; m < mid; ++m) s += x[m * stride];
    return s;
  }
  if (f == Reduce::Max || f == Reduce::Min) {
    T best = x[0];
    for (int64_t m = 1; m < mid; ++m) {
      T v = x[m * stride];
      best = f == Reduce::Max ? (v > best ? v : best) : (v < best ? v : best);
    }
    return best;
  }
  // LogSumExp: shift by the maximum so exp never overflows.
  T mx = -std::numeric_limits<T>::infinity();
  for (int64_t m = 0; m < mid; ++m) mx = std::max(mx, x[m * stride]);
  if (!std::isfinite(mx)) return mx;
  T s = 0;
  for (int64_t m = 0; m < mid; ++m) s += std::exp(x[m * stride] - mx);
  return mx + std::log(s);
}

template <typename T>
void softmax_row(T* y, const T* x, int64_t mid, int64_t stride, bool log) {
  T mx = -std::numeric_limits<T>::infinity();
  for (int64_t m = 0; m < mid; ++m) mx = std::max(mx, x[m * stride]);
  T s = 0;
  for (int64_t m = 0; m < mid; ++m) {
    T e = std::exp(x[m * stride] - mx);
    if (!log) y[m * stride] = e;
    s += e;
  }
  if (log) {
    T lse = mx + std::log(s);
    for (int64_t m = 0; m < mid; ++m) y[m * stride] = x[m * stride] - lse;
  } else {
    T inv = T(1) / s;
    for (int64_t m = 0; m < mid; ++m) y[m * stride] *= inv;
  }
}

#ifdef FLARE_HAVE_VECMATH
// Contiguous float rows (a softmax over a vocabulary, every step of a language model): the
// vectorised exp instead of libm's, eight lanes at a time.
inline float hmax(__m256 v) {
  __m128 h = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  h = _mm_max_ps(h, _mm_movehl_ps(h, h));
  return _mm_cvtss_f32(_mm_max_ss(h, _mm_shuffle_ps(h, h, 1)));
}
inline float hadd(__m256 v) {
  __m128 h = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  h = _mm_add_ps(h, _mm_movehl_ps(h, h));
  return _mm_cvtss_f32(_mm_add_ss(h, _mm_shuffle_ps(h, h, 1)));
}
inline float exp1(float x) { return _mm256_cvtss_f32(vecmath::exp(_mm256_set1_ps(x))); }

void softmax_row_f32(float* y, const float* x, int64_t n, bool log) {
  int64_t i = 0;
  __m256 mv = _mm256_set1_ps(-std::numeric_limits<float>::infinity());
  for (; i + 8 <= n; i += 8) mv = _mm256_max_ps(mv, _mm256_loadu_ps(x + i));
  float mx = hmax(mv);
  for (; i < n; ++i) mx = std::max(mx, x[i]);
  const __m256 m8 = _mm256_set1_ps(mx);
  __m256 sv = _mm256_setzero_ps();
  float s = 0;
  for (i = 0; i + 8 <= n; i += 8) {
    const __m256 e = vecmath::exp(_mm256_sub_ps(_mm256_loadu_ps(x + i), m8));
    if (!log) _mm256_storeu_ps(y + i, e);
    sv = _mm256_add_ps(sv, e);
  }
  for (; i < n; ++i) {
    const float e = exp1(x[i] - mx);
    if (!log) y[i] = e;
    s += e;
  }
  s += hadd(sv);
  if (log) {
    const float lse = mx + std::log(s);
    const __m256 l8 = _mm256_set1_ps(lse);
    for (i = 0; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, _mm256_sub_ps(_mm256_loadu_ps(x + i), l8));
    for (; i < n; ++i) y[i] = x[i] - lse;
  } else {
    const float inv = 1.f / s;
    const __m256 i8 = _mm256_set1_ps(inv);
    for (i = 0; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, _mm256_mul_ps(_mm256_loadu_ps(y + i), i8));
    for (; i < n; ++i) y[i] *= inv;
  }
}

void softmax_grad_row_f32(float* dx, const float* y, const float* dy, int64_t n, bool log) {
  int64_t i = 0;
  __m256 sv = _mm256_setzero_ps();
  if (log) {
    // y = x - lse(x): dx = dy - softmax(x) * sum(dy)
    for (; i + 8 <= n; i += 8) sv = _mm256_add_ps(sv, _mm256_loadu_ps(dy + i));
    float s = hadd(sv);
    for (; i < n; ++i) s += dy[i];
    const __m256 s8 = _mm256_set1_ps(s);
    for (i = 0; i + 8 <= n; i += 8) {
      const __m256 p = vecmath::exp(_mm256_loadu_ps(y + i));
      const __m256 d = _mm256_fnmadd_ps(p, s8, _mm256_loadu_ps(dy + i));
      _mm256_storeu_ps(dx + i, _mm256_add_ps(_mm256_loadu_ps(dx + i), d));
    }
    for (; i < n; ++i) dx[i] += dy[i] - exp1(y[i]) * s;
  } else {
    // dx = y * (dy - <dy, y>)
    for (; i + 8 <= n; i += 8) sv = _mm256_fmadd_ps(_mm256_loadu_ps(dy + i), _mm256_loadu_ps(y + i), sv);
    float s = hadd(sv);
    for (; i < n; ++i) s += dy[i] * y[i];
    const __m256 s8 = _mm256_set1_ps(s);
    for (i = 0; i + 8 <= n; i += 8) {
      const __m256 yv = _mm256_loadu_ps(y + i);
      const __m256 d = _mm256_mul_ps(yv, _mm256_sub_ps(_mm256_loadu_ps(dy + i), s8));
      _mm256_storeu_ps(dx + i, _mm256_add_ps(_mm256_loadu_ps(dx + i), d));
    }
    for (; i < n; ++i) dx[i] += y[i] * (dy[i] - s);
  }
}

// pick_neg_log_softmax's backward for one row (label at `label`), as softmax_grad_row_f32(dx, y,
// g, n, true) computes it from g = -(0 + dy) at the label and -0 elsewhere, without g.
void pick_neg_log_softmax_grad_row_f32(float* dx, const float* y, float dy, int64_t label, int64_t n) {
  const float gl = -(0.f + dy);
  const float s = gl == 0.f ? 0.f : gl;  // g's sum, signed zero as the composed lanes leave it
  const __m256 s8 = _mm256_set1_ps(s), neg0 = _mm256_set1_ps(-0.f);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    __m256 g = neg0;
    if (label >= i && label < i + 8) {
      alignas(32) float lane[8] = {-0.f, -0.f, -0.f, -0.f, -0.f, -0.f, -0.f, -0.f};
      lane[label - i] = gl;
      g = _mm256_load_ps(lane);
    }
    const __m256 d = _mm256_fnmadd_ps(vecmath::exp(_mm256_loadu_ps(y + i)), s8, g);
    _mm256_storeu_ps(dx + i, _mm256_add_ps(_mm256_loadu_ps(dx + i), d));
  }
  for (; i < n; ++i) dx[i] += (i == label ? gl : -0.f) - exp1(y[i]) * s;
}
#endif

// The same for any type, as CpuBackend::softmax_grad's loop computes it, except that the
// compiler may fuse dx - e * s into one rounding for the classes other than the label.
template <typename T>
void pick_neg_log_softmax_grad_row(T* dx, const T* y, T dy, int64_t label, int64_t n) {
  const T gl = -(T(0) + dy);
  const T s = gl == T(0) ? T(0) : gl;
  for (int64_t m = 0; m < n; ++m) dx[m] += (m == label ? gl : T(-0.0)) - std::exp(y[m]) * s;
}

}  // namespace

void CpuBackend::reduce(Reduce f, DType t, void* y, const void* x, int64_t outer, int64_t mid,
                        int64_t inner) {
  dispatch_dtype(t, [&](auto z) {
    using T = decltype(z);
    const T* px = static_cast<const T*>(x);
    T* py = static_cast<T*>(y);
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t i = 0; i < inner; ++i)
        py[o * inner + i] = reduce_row(f, px + o * mid * inner + i, mid, inner);
  });
}

void CpuBackend::reduce_grad(Reduce f, DType t, void* dx, const void* x, const void* y,
                             const void* dy, int64_t outer, int64_t mid, int64_t inner,
                             double alpha) {
  dispatch_dtype(t, [&](auto z) {
    using T = decltype(z);
    const T* px = static_cast<const T*>(x);
    const T* py = static_cast<const T*>(y);
    const T* pdy = static_cast<const T*>(dy);
    T* pdx = static_cast<T*>(dx);
    const T a = T(alpha);
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t i = 0; i < inner; ++i) {
        const int64_t base = o * mid * inner + i;
        const T g = a * pdy[o * inner + i];
        if (f == Reduce::Sum) {
          for (int64_t m = 0; m < mid; ++m) pdx[base + m * inner] += g;
        } else if (f == Reduce::LogSumExp) {
          const T lse = py[o * inner + i];
          for (int64_t m = 0; m < mid; ++m)
            pdx[base + m * inner] += g * std::exp(px[base + m * inner] - lse);
        } else {
          // The gradient of max/min goes to the first position holding the extremum.
          const T best = py[o * inner + i];
          for (int64_t m = 0; m < mid; ++m)
            if (px[base + m * inner] == best) {
              pdx[base + m * inner] += g;
              break;
            }
        }
      }
  });
}

void CpuBackend::softmax(DType t, void* y, const void* x, int64_t outer, int64_t mid,
                         int64_t inner, bool log) {
  dispatch_dtype(t, [&](auto z) {
    using T = decltype(z);
    const T* px = static_cast<const T*>(x);
    T* py = static_cast<T*>(y);
#ifdef FLARE_HAVE_VECMATH
    if constexpr (std::is_same_v<T, float>) {
      if (inner == 1) {
        for (int64_t o = 0; o < outer; ++o) softmax_row_f32(py + o * mid, px + o * mid, mid, log);
        return;
      }
    }
#endif
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t i = 0; i < inner; ++i)
        softmax_row(py + o * mid * inner + i, px + o * mid * inner + i, mid, inner, log);
  });
}

void CpuBackend::softmax_grad(DType t, void* dx, const void* y, const void* dy, int64_t outer,
                              int64_t mid, int64_t inner, bool log) {
  dispatch_dtype(t, [&](auto z) {
    using T = decltype(z);
    const T* py = static_cast<const T*>(y);
    const T* pdy = static_cast<const T*>(dy);
    T* pdx = static_cast<T*>(dx);
#ifdef FLARE_HAVE_VECMATH
    if constexpr (std::is_same_v<T, float>) {
      if (inner == 1) {
        for (int64_t o = 0; o < outer; ++o) softmax_grad_row_f32(pdx + o * mid, py + o * mid, pdy + o * mid, mid, log);
        return;
      }
    }
#endif
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t i = 0; i < inner; ++i) {
        const int64_t base = o * mid * inner + i;
        T s = 0;
        if (log) {
          // y = x - lse(x): dx = dy - softmax(x) * sum(dy)
          for (int64_t m = 0; m < mid; ++m) s += pdy[base + m * inner];
          for (int64_t m = 0; m < mid; ++m)
            pdx[base + m * inner] += pdy[base + m * inner] - std::exp(py[base + m * inner]) * s;
        } else {
          // dx = y * (dy - <dy, y>)
          for (int64_t m = 0; m < mid; ++m) s += pdy[base + m * inner] * py[base + m * inner];
          for (int64_t m = 0; m < mid; ++m)
            pdx[base + m * inner] += py[base + m * inner] * (pdy[base + m * inner] - s);
        }
      }
  });
}

bool CpuBackend::pick_neg_log_softmax_grad(DType t, void* dx, const void* logp, const void* dy,
                                           const int32_t* pos, int64_t batch, int64_t classes) {
  dispatch_dtype(t, [&](auto z) {
    using T = decltype(z);
    T* pdx = static_cast<T*>(dx);
    const T* py = static_cast<const T*>(logp);
    const T* pdy = static_cast<const T*>(dy);
    for (int64_t b = 0; b < batch; ++b) {
      const int64_t label = int64_t(pos[b]) - b * classes;
#ifdef FLARE_HAVE_VECMATH
      if constexpr (std::is_same_v<T, float>) {
        pick_neg_log_softmax_grad_row_f32(pdx + b * classes, py + b * classes, pdy[b], label, classes);
        continue;
      }
#endif
      pick_neg_log_softmax_grad_row<T>(pdx + b * classes, py + b * classes, pdy[b], label, classes);
    }
  });
  return true;
}

}  // namespace flare
