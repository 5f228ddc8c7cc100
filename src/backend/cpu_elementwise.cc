// Element-wise CPU kernels. Each function is instantiated from the shared functors (one
// definition of the math for every device); float tanh/exp/sigmoid take the AVX2 paths of
// cpu_vecmath.h and log takes SLEEF's, because libm's scalar versions do not vectorise.
#include <cstring>

#include "backend/cpu_backend.h"
#include "backend/cpu_vecmath.h"
#include "backend/functors.h"

#if defined(FLARE_HAVE_SLEEF) && defined(FLARE_HAVE_VECMATH)
#include <sleef.h>
#define FLARE_SLEEF_AVX2 1
#endif

namespace flare {
namespace {

template <Unary F, typename T>
void unary_loop(T* y, const T* x, int64_t n, T alpha) {
  for (int64_t i = 0; i < n; ++i) y[i] = fn::unary<F>(x[i], alpha);
}

#ifdef FLARE_SLEEF_AVX2
// Returns the number of elements handled with 8-wide vectors; the caller finishes the tail.
int64_t sleef_unary(Unary f, float* y, const float* x, int64_t n) {
  int64_t i = 0;
  switch (f) {
    case Unary::Tanh:
      for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, vecmath::tanh(_mm256_loadu_ps(x + i)));
      break;
    case Unary::Exp:
      for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, vecmath::exp(_mm256_loadu_ps(x + i)));
      break;
    case Unary::Sigmoid:
      for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, vecmath::sigmoid(_mm256_loadu_ps(x + i)));
      break;
    case Unary::Log:
      for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, Sleef_logf8_u10avx2(_mm256_loadu_ps(x + i)));
      break;
    default:
      break;
  }
  return i;
}
#endif

template <typename T>
void unary_dispatch(Unary f, T* y, const T* x, int64_t n, T alpha) {
  int64_t done = 0;
#ifdef FLARE_SLEEF_AVX2
  if constexpr (std::is_same_v<T, float>) done = sleef_unary(f, y, x, n);
#endif
  y += done, x += done, n -= done;
  switch (f) {
#define FLARE_CASE(F) \
  case Unary::F: unary_loop<Unary::F>(y, x, n, alpha); break;
    FLARE_FOR_EACH_UNARY(FLARE_CASE)
#undef FLARE_CASE
    default: break;
  }
}

template <Unary F, typename T>
void unary_grad_loop(T* dx, const T* x, const T* y, const T* dy, int64_t n, T alpha) {
  for (int64_t i = 0; i < n; ++i) dx[i] += fn::unary_grad<F>(x[i], y[i], dy[i], alpha);
}

template <Binary F, typename T>
void binary_loop(T* y, const T* a, const T* b, const Bcast& bc) {
  const int64_t n = bc.n;
  for (int64_t i = 0; i < bc.batch; ++i) {
    const T* ai = a + i * bc.a_bs;
    const T* bi = b + i * bc.b_bs;
    T* yi = y + i * n;
    // Separate loops per stride pattern let the compiler vectorise the common cases.
    if (bc.a_es == 1 && bc.b_es == 1) {
      for (int64_t j = 0; j < n; ++j) yi[j] = fn::binary<F>(ai[j], bi[j]);
    } else if (bc.a_es == 1) {
      const T bv = bi[0];
      for (int64_t j = 0; j < n; ++j) yi[j] = fn::binary<F>(ai[j], bv);
    } else if (bc.b_es == 1) {
      const T av = ai[0];
      for (int64_t j = 0; j < n; ++j) yi[j] = fn::binary<F>(av, bi[j]);
    } else {
      for (int64_t j = 0; j < n; ++j) yi[j] = fn::binary<F>(ai[0], bi[0]);
    }
  }
}

template <Binary F, int Arg, typename T>
void binary_grad_loop(T* d, const T* a, const T* b, const T* y, const T* dy, const Bcast& bc) {
  const int64_t n = bc.n;
  const int64_t d_bs = Arg == 0 ? bc.a_bs : bc.b_bs, d_es = Arg == 0 ? bc.a_es : bc.b_es;
  for (int64_t i = 0; i < bc.batch; ++i) {
    const T* ai = a + i * bc.a_bs;
    const T* bi = b + i * bc.b_bs;
    const T* yi = y ? y + i * n : nullptr;
    const T* dyi = dy + i * n;
    T* di = d + i * d_bs;
    if (d_es == 1) {
      for (int64_t j = 0; j < n; ++j)
        di[j] += fn::binary_grad<F, Arg>(ai[j * bc.a_es], bi[j * bc.b_es], yi ? yi[j] : T(0), dyi[j]);
    } else {
      T acc = 0;  // this argument is broadcast across the example: sum its contributions
      for (int64_t j = 0; j < n; ++j)
        acc += fn::binary_grad<F, Arg>(ai[j * bc.a_es], bi[j * bc.b_es], yi ? yi[j] : T(0), dyi[j]);
      di[0] += acc;
    }
  }
}

}  // namespace

void CpuBackend::fill(DType t, void* y, int64_t n, double value) {
  dispatch_dtype(t, [&](auto z) {
    using T = decltype(z);
    T* p = static_cast<T*>(y);
    if (value == 0.0) {
      std::memset(p, 0, size_t(n) * sizeof(T));
      return;
    }
    const T v = T(value);
    for (int64_t i = 0; i < n; ++i) p[i] = v;
  });
}

void CpuBackend::copy(DType t, void* y, const void* x, int64_t n) {
  if (y != x) std::memmove(y, x, size_t(n) * dtype_size(t));
}

void CpuBackend::axpy(DType t, void* y, const void* x, int64_t n, double alpha) {
  dispatch_dtype(t, [&](auto z) {
    using T = decltype(z);
    T* py = static_cast<T*>(y);
    const T* px = static_cast<const T*>(x);
    const T a = T(alpha);
    if (alpha == 1.0) {
      for (int64_t i = 0; i < n; ++i) py[i] += px[i];
    } else {
      for (int64_t i = 0; i < n; ++i) py[i] += a * px[i];
    }
  });
}

void CpuBackend::unary(Unary f, DType t, void* y, const void* x, int64_t n, double alpha) {
  dispatch_dtype(t, [&](auto z) {
    using T = decltype(z);
    unary_dispatch<T>(f, static_cast<T*>(y), static_cast<const T*>(x), n, T(alpha));
  });
}

void CpuBackend::unary_grad(Unary f, DType t, void* dx, const void* x, const void* y,
                            const void* dy, int64_t n, double alpha) {
  dispatch_dtype(t, [&](auto z) {
    using T = decltype(z);
    auto* d = static_cast<T*>(dx);
    auto* px = static_cast<const T*>(x);
    auto* py = static_cast<const T*>(y);
    auto* pdy = static_cast<const T*>(dy);
    switch (f) {
#define FLARE_CASE(F) \
  case Unary::F: unary_grad_loop<Unary::F>(d, px, py, pdy, n, T(alpha)); break;
      FLARE_FOR_EACH_UNARY(FLARE_CASE)
#undef FLARE_CASE
      default: break;
    }
  });
}

void CpuBackend::binary(Binary f, DType t, void* y, const void* a, const void* b, const Bcast& bc) {
  dispatch_dtype(t, [&](auto z) {
    using T = decltype(z);
    auto* py = static_cast<T*>(y);
    auto* pa = static_cast<const T*>(a);
    auto* pb = static_cast<const T*>(b);
    switch (f) {
#define FLARE_CASE(F) \
  case Binary::F: binary_loop<Binary::F>(py, pa, pb, bc); break;
      FLARE_FOR_EACH_BINARY(FLARE_CASE)
#undef FLARE_CASE
      default: break;
    }
  });
}

void CpuBackend::binary_grad(Binary f, int arg, DType t, void* dx, const void* a, const void* b,
                             const void* y, const void* dy, const Bcast& bc) {
  dispatch_dtype(t, [&](auto z) {
    using T = decltype(z);
    auto* d = static_cast<T*>(dx);
    auto* pa = static_cast<const T*>(a);
    auto* pb = static_cast<const T*>(b);
    auto* py = static_cast<const T*>(y);
    auto* pdy = static_cast<const T*>(dy);
    switch (f) {
#define FLARE_CASE(F)                                                     \
  case Binary::F:                                                         \
    if (arg == 0) binary_grad_loop<Binary::F, 0>(d, pa, pb, py, pdy, bc); \
    else binary_grad_loop<Binary::F, 1>(d, pa, pb, py, pdy, bc);          \
    break;
      FLARE_FOR_EACH_BINARY(FLARE_CASE)
#undef FLARE_CASE
      default: break;
    }
  });
}

bool CpuBackend::all_finite(DType t, const void* x, int64_t n) {
  return dispatch_dtype(t, [&](auto z) {
    using T = decltype(z);
    const T* p = static_cast<const T*>(x);
    bool ok = true;
    for (int64_t i = 0; i < n; ++i) ok &= std::isfinite(p[i]);
    return ok;
  });
}

}  // namespace flare
