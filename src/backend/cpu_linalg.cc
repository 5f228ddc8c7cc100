// GEMM on the CPU through CBLAS. Matrix-vector and rank-1 shapes are routed to gemv and ger:
// they dominate dynamic models (one example at a time) and BLAS's gemm path is slower there.
#include <cblas.h>

#include "backend/cpu_backend.h"

#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
#endif

namespace flare {
namespace {

// Small float matrix-vector kernels. A BLAS call costs more than the arithmetic of a 32x32
// product (argument checks, dispatch, a per-row axpy inside ger); dynamic models make millions
// of such calls, so below kSmall elements these loops run instead.
constexpr int64_t kSmall = 128 * 128;

inline float dot_f32(const float* a, const float* b, int64_t n) {
  int64_t j = 0;
  float s = 0.f;
#if defined(__AVX2__) && defined(__FMA__)
  __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
  for (; j + 16 <= n; j += 16) {
    acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + j), _mm256_loadu_ps(b + j), acc0);
    acc1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + j + 8), _mm256_loadu_ps(b + j + 8), acc1);
  }
  for (; j + 8 <= n; j += 8) acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + j), _mm256_loadu_ps(b + j), acc0);
  acc0 = _mm256_add_ps(acc0, acc1);
  __m128 h = _mm_add_ps(_mm256_castps256_ps128(acc0), _mm256_extractf128_ps(acc0, 1));
  h = _mm_add_ps(h, _mm_movehl_ps(h, h));
  h = _mm_add_ss(h, _mm_shuffle_ps(h, h, 1));
  s = _mm_cvtss_f32(h);
#endif
  for (; j < n; ++j) s += a[j] * b[j];
  return s;
}

inline void axpy_f32(float* y, const float* x, int64_t n, float a) {
  int64_t j = 0;
#if defined(__AVX2__) && defined(__FMA__)
  const __m256 av = _mm256_set1_ps(a);
  for (; j + 8 <= n; j += 8)
    _mm256_storeu_ps(y + j, _mm256_fmadd_ps(av, _mm256_loadu_ps(x + j), _mm256_loadu_ps(y + j)));
#endif
  for (; j < n; ++j) y[j] += a * x[j];
}

#if defined(__AVX2__) && defined(__FMA__)
inline float hsum(__m256 v) {
  __m128 h = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  h = _mm_add_ps(h, _mm_movehl_ps(h, h));
  return _mm_cvtss_f32(_mm_add_ss(h, _mm_shuffle_ps(h, h, 1)));
}
#endif

// y (m, stride incy) = alpha * A (m x k) x (contiguous) + beta * y. Four rows at a time share
// each load of x.
void small_gemv_n(int64_t m, int64_t k, float alpha, const float* a, int64_t lda, const float* x,
                  float beta, float* y, int64_t incy) {
  int64_t i = 0;
#if defined(__AVX2__) && defined(__FMA__)
  const int64_t kv = k / 8 * 8;
  for (; i + 4 <= m; i += 4) {
    const float* r0 = a + i * lda;
    const float* r1 = r0 + lda;
    const float* r2 = r1 + lda;
    const float* r3 = r2 + lda;
    __m256 s0 = _mm256_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
    for (int64_t j = 0; j < kv; j += 8) {
      const __m256 xv = _mm256_loadu_ps(x + j);
      s0 = _mm256_fmadd_ps(_mm256_loadu_ps(r0 + j), xv, s0);
      s1 = _mm256_fmadd_ps(_mm256_loadu_ps(r1 + j), xv, s1);
      s2 = _mm256_fmadd_ps(_mm256_loadu_ps(r2 + j), xv, s2);
      s3 = _mm256_fmadd_ps(_mm256_loadu_ps(r3 + j), xv, s3);
    }
    float d[4] = {hsum(s0), hsum(s1), hsum(s2), hsum(s3)};
    for (int64_t j = kv; j < k; ++j) {
      d[0] += r0[j] * x[j], d[1] += r1[j] * x[j], d[2] += r2[j] * x[j], d[3] += r3[j] * x[j];
    }
    for (int r = 0; r < 4; ++r) {
      float& out = y[(i + r) * incy];
      out = beta == 0.f ? alpha * d[r] : alpha * d[r] + beta * out;
    }
  }
#endif
  for (; i < m; ++i) {
    float d = alpha * dot_f32(a + i * lda, x, k);
    y[i * incy] = beta == 0.f ? d : d + beta * y[i * incy];
  }
}

// c (m x n, rows of stride ldc) += alpha * a b^T with b contiguous: the weight gradient of a
// matrix-vector product. Blocks of 32 columns of b stay in registers across all rows.
void small_ger(int64_t m, int64_t n, float alpha, const float* a, int64_t inca, const float* b,
               float* c, int64_t ldc) {
  int64_t j0 = 0;
#if defined(__AVX2__) && defined(__FMA__)
  for (; j0 + 32 <= n; j0 += 32) {
    const __m256 b0 = _mm256_loadu_ps(b + j0), b1 = _mm256_loadu_ps(b + j0 + 8),
                 b2 = _mm256_loadu_ps(b + j0 + 16), b3 = _mm256_loadu_ps(b + j0 + 24);
    for (int64_t i = 0; i < m; ++i) {
      const __m256 ai = _mm256_set1_ps(alpha * a[i * inca]);
      float* row = c + i * ldc + j0;
      _mm256_storeu_ps(row, _mm256_fmadd_ps(ai, b0, _mm256_loadu_ps(row)));
      _mm256_storeu_ps(row + 8, _mm256_fmadd_ps(ai, b1, _mm256_loadu_ps(row + 8)));
      _mm256_storeu_ps(row + 16, _mm256_fmadd_ps(ai, b2, _mm256_loadu_ps(row + 16)));
      _mm256_storeu_ps(row + 24, _mm256_fmadd_ps(ai, b3, _mm256_loadu_ps(row + 24)));
    }
  }
#endif
  if (j0 < n)
    for (int64_t i = 0; i < m; ++i) axpy_f32(c + i * ldc + j0, b + j0, n - j0, alpha * a[i * inca]);
}

// y (n, contiguous) = alpha * A^T x + beta * y, A is k x n with rows of stride lda. Columns go
// in blocks of 32 held in four registers across all k rows, so y is read and written once.
void small_gemv_t(int64_t k, int64_t n, float alpha, const float* a, int64_t lda, const float* x,
                  int64_t incx, float beta, float* y) {
  int64_t j0 = 0;
#if defined(__AVX2__) && defined(__FMA__)
  for (; j0 + 32 <= n; j0 += 32) {
    __m256 acc0 = _mm256_setzero_ps(), acc1 = acc0, acc2 = acc0, acc3 = acc0;
    for (int64_t i = 0; i < k; ++i) {
      const __m256 xi = _mm256_set1_ps(x[i * incx]);
      const float* row = a + i * lda + j0;
      acc0 = _mm256_fmadd_ps(xi, _mm256_loadu_ps(row), acc0);
      acc1 = _mm256_fmadd_ps(xi, _mm256_loadu_ps(row + 8), acc1);
      acc2 = _mm256_fmadd_ps(xi, _mm256_loadu_ps(row + 16), acc2);
      acc3 = _mm256_fmadd_ps(xi, _mm256_loadu_ps(row + 24), acc3);
    }
    const __m256 al = _mm256_set1_ps(alpha), be = _mm256_set1_ps(beta);
    __m256 acc[4] = {acc0, acc1, acc2, acc3};
    for (int v = 0; v < 4; ++v) {
      __m256 r = _mm256_mul_ps(al, acc[v]);
      if (beta != 0.f) r = _mm256_fmadd_ps(be, _mm256_loadu_ps(y + j0 + 8 * v), r);
      _mm256_storeu_ps(y + j0 + 8 * v, r);
    }
  }
#endif
  if (j0 == n) return;
  float* yt = y + j0;
  const int64_t nt = n - j0;
  if (beta == 0.f) {
    for (int64_t j = 0; j < nt; ++j) yt[j] = 0.f;
  } else if (beta != 1.f) {
    for (int64_t j = 0; j < nt; ++j) yt[j] *= beta;
  }
  for (int64_t i = 0; i < k; ++i) axpy_f32(yt, a + i * lda + j0, nt, alpha * x[i * incx]);
}

CBLAS_TRANSPOSE tr(bool t) { return t ? CblasTrans : CblasNoTrans; }

template <typename T>
void scale_matrix(T* c, int64_t m, int64_t n, int64_t ldc, T beta) {
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) c[i * ldc + j] = beta == T(0) ? T(0) : c[i * ldc + j] * beta;
}

template <typename T>
void gemv(CBLAS_TRANSPOSE t, int64_t m, int64_t n, T alpha, const T* a, int64_t lda, const T* x,
          int64_t incx, T beta, T* y, int64_t incy) {
  if constexpr (std::is_same_v<T, float>)
    cblas_sgemv(CblasRowMajor, t, int(m), int(n), alpha, a, int(lda), x, int(incx), beta, y, int(incy));
  else
    cblas_dgemv(CblasRowMajor, t, int(m), int(n), alpha, a, int(lda), x, int(incx), beta, y, int(incy));
}

template <typename T>
void gemm_t(bool ta, bool tb, int64_t m, int64_t n, int64_t k, T alpha, const T* a, int64_t lda,
            const T* b, int64_t ldb, T beta, T* c, int64_t ldc) {
  if (m == 0 || n == 0) return;
  if (k == 0) {
    scale_matrix(c, m, n, ldc, beta);
    return;
  }
  if constexpr (std::is_same_v<T, float>) {
    if (m * k <= kSmall && n * k <= kSmall && m * n <= kSmall) {
      if (n == 1 && (tb || ldb == 1)) {
        if (!ta) small_gemv_n(m, k, alpha, a, lda, b, beta, c, ldc);
        else if (ldc == 1) small_gemv_t(k, m, alpha, a, lda, b, 1, beta, c);
        else goto blas;
        return;
      }
      if (m == 1) {
        // c^T = op(B)^T op(A)^T
        int64_t incx = ta ? lda : 1;
        if (!tb) small_gemv_t(k, n, alpha, b, ldb, a, incx, beta, c);
        else if (incx == 1) small_gemv_n(n, k, alpha, b, ldb, a, beta, c, 1);
        else goto blas;
        return;
      }
      if (k == 1 && beta == T(1) && (tb ? ldb == 1 : true)) {
        // c += alpha * a b^T, b contiguous
        small_ger(m, n, alpha, a, ta ? 1 : lda, b, c, ldc);
        return;
      }
    }
  }
blas:
  if (n == 1) {
    // c (m x 1) = op(A) (m x k) * op(B) (k x 1)
    int64_t incx = tb ? 1 : ldb;
    if (!ta) gemv(CblasNoTrans, m, k, alpha, a, lda, b, incx, beta, c, ldc);
    else gemv(CblasTrans, k, m, alpha, a, lda, b, incx, beta, c, ldc);
    return;
  }
  if (m == 1) {
    // c^T (n x 1) = op(B)^T (n x k) * op(A)^T (k x 1)
    int64_t incx = ta ? lda : 1;
    if (!tb) gemv(CblasTrans, k, n, alpha, b, ldb, a, incx, beta, c, 1);
    else gemv(CblasNoTrans, n, k, alpha, b, ldb, a, incx, beta, c, 1);
    return;
  }
  if (k == 1 && beta == T(1)) {
    // Rank-1 update: c += alpha * a b^T (the weight gradient of a matrix-vector product).
    int64_t inca = ta ? 1 : lda, incb = tb ? ldb : 1;
    if constexpr (std::is_same_v<T, float>)
      cblas_sger(CblasRowMajor, int(m), int(n), alpha, a, int(inca), b, int(incb), c, int(ldc));
    else
      cblas_dger(CblasRowMajor, int(m), int(n), alpha, a, int(inca), b, int(incb), c, int(ldc));
    return;
  }
  if constexpr (std::is_same_v<T, float>)
    cblas_sgemm(CblasRowMajor, tr(ta), tr(tb), int(m), int(n), int(k), alpha, a, int(lda), b,
                int(ldb), beta, c, int(ldc));
  else
    cblas_dgemm(CblasRowMajor, tr(ta), tr(tb), int(m), int(n), int(k), alpha, a, int(lda), b,
                int(ldb), beta, c, int(ldc));
}

}  // namespace

void CpuBackend::gemm(DType t, bool ta, bool tb, int64_t m, int64_t n, int64_t k, double alpha,
                      const void* a, int64_t lda, const void* b, int64_t ldb, double beta, void* c,
                      int64_t ldc) {
  dispatch_dtype(t, [&](auto z) {
    using T = decltype(z);
    gemm_t<T>(ta, tb, m, n, k, T(alpha), static_cast<const T*>(a), lda, static_cast<const T*>(b),
              ldb, T(beta), static_cast<T*>(c), ldc);
  });
}

void CpuBackend::gemm_batched(DType t, bool ta, bool tb, int64_t m, int64_t n, int64_t k,
                              double alpha, const void* a, int64_t lda, int64_t sa, const void* b,
                              int64_t ldb, int64_t sb, double beta, void* c, int64_t ldc,
                              int64_t sc, int64_t count) {
  dispatch_dtype(t, [&](auto z) {
    using T = decltype(z);
    auto* pa = static_cast<const T*>(a);
    auto* pb = static_cast<const T*>(b);
    auto* pc = static_cast<T*>(c);
    for (int64_t i = 0; i < count; ++i)
      gemm_t<T>(ta, tb, m, n, k, T(alpha), pa + i * sa, lda, pb + i * sb, ldb, T(beta), pc + i * sc, ldc);
  });
}

void CpuBackend::transpose(DType t, void* y, const void* x, int64_t rows, int64_t cols,
                           int64_t count, bool accumulate) {
  dispatch_dtype(t, [&](auto z) {
    using T = decltype(z);
    for (int64_t c = 0; c < count; ++c) {
      const T* px = static_cast<const T*>(x) + c * rows * cols;
      T* py = static_cast<T*>(y) + c * rows * cols;
      for (int64_t i = 0; i < rows; ++i)
        for (int64_t j = 0; j < cols; ++j) {
          if (accumulate) py[j * rows + i] += px[i * cols + j];
          else py[j * rows + i] = px[i * cols + j];
        }
    }
  });
}

}  // namespace flare
