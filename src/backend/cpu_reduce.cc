// Reductions and softmax over the middle axis of an [outer, mid, inner] view. The common case
// inner == 1 (reduce a contiguous row) gets its own loops so they vectorise.
#include <cmath>
#include <limits>
#include <vector>

#include "backend/cpu_backend.h"

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

}  // namespace flare
