// GEMM on the CPU through CBLAS. Matrix-vector and rank-1 shapes are routed to gemv and ger
// (float: this library's own kernels, cpu_gemv.h): they dominate dynamic models (one example at
// a time) and BLAS's gemm path is slower there.
#include <cblas.h>

#include "backend/cpu_backend.h"
#include "backend/cpu_gemv.h"

namespace flare {
namespace {

// Above this many matrix elements gemv_t goes to BLAS (whose kernel reads a tall matrix in one
// pass where cpu::gemv_t makes a pass per 64-column block).
constexpr int64_t kOwnGemvT = 128 * 1024;
// Up to this many vectors against one matrix go to the multi-vector kernels of cpu_gemv.h,
// which read the matrix once; more go to BLAS's gemm, whose packing then pays for itself.
constexpr int64_t kFewVectors = 8;
// The transposed form (A^T x for each vector) keeps its edge over gemm to fewer vectors: at 8
// OpenBLAS was faster again for a 640x128 matrix (bench: 28 against 25 us).
constexpr int64_t kFewVectorsT = 6;

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
    // Matrix-vector and rank-1 shapes go to cpu_gemv.h (faster than BLAS there, and ger's
    // rounding is what ger_batched reproduces); the rest, and strided vectors, to BLAS.
    if (n == 1 && (tb || ldb == 1)) {
      if (!ta) {
        cpu::gemv_n(m, k, alpha, a, lda, b, beta, c, ldc);
        return;
      }
      if (ldc == 1 && m * k <= kOwnGemvT) {
        cpu::gemv_t(k, m, alpha, a, lda, b, 1, beta, c);
        return;
      }
    } else if (m == 1) {
      // c^T = op(B)^T op(A)^T
      const int64_t incx = ta ? lda : 1;
      if (!tb && n * k <= kOwnGemvT) {
        cpu::gemv_t(k, n, alpha, b, ldb, a, incx, beta, c);
        return;
      }
      if (tb && incx == 1) {
        cpu::gemv_n(n, k, alpha, b, ldb, a, beta, c, 1);
        return;
      }
    } else if (k == 1 && beta == T(1) && (tb ? ldb == 1 : true)) {
      // c += alpha * a b^T, b contiguous
      cpu::ger(m, n, alpha, a, ta ? 1 : lda, b, c, ldc);
      return;
    } else if (m <= kFewVectors && !ta && tb) {
      // C [m,n] = A [m,k] B^T: a few vectors (rows of A) against one matrix B [n,k], as from a
      // level of a tree or a small batch; B is read once, and each row rounds as gemv_n's.
      cpu::gemv_n_multi(n, k, alpha, b, ldb, a, lda, m, beta, c, ldc);
      return;
    } else if (m <= kFewVectorsT && !ta && !tb && k * n <= kOwnGemvT) {
      // C [m,n] = A [m,k] B: row i is B^T a_i, gemv_t of a few vectors against B [k,n].
      cpu::gemv_t_multi(k, n, alpha, b, ldb, a, lda, m, beta, c, ldc);
      return;
    }
    // C += A^T B with a few rows (a weight gradient of a few vectors) stays with BLAS: as rank-1
    // terms, even in one pass over C (ger_batched), it measured 1.5-3x slower. Eagerly such
    // terms of a parameter are deferred and summed per tree instead (ops/deferred_ger.h).
  }
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

void CpuBackend::ger_batched(DType t, int64_t m, int64_t n, double alpha, const void* const* a,
                             const void* const* b, int64_t count, void* c, int64_t ldc) {
  // A single row or column is a gemv in gemm's routing, rounded differently: keep its calls.
  if (t != DType::f32 || m == 1 || n == 1) return Backend::ger_batched(t, m, n, alpha, a, b, count, c, ldc);
  cpu::ger_batched(m, n, float(alpha), reinterpret_cast<const float* const*>(a),
                   reinterpret_cast<const float* const*>(b), count, static_cast<float*>(c), ldc);
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
