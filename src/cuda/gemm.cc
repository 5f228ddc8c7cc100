// Matrix products through cuBLAS. flare's matrices are row-major and cuBLAS's column-major:
// a row-major m x n matrix with leading dimension ld is, to cuBLAS, its n x m transpose with
// the same ld. So row-major C = op(A) op(B) is computed as column-major C^T = op(B)^T op(A)^T,
// which is cuBLAS's gemm with the operands swapped, m and n swapped, and the same flags.
#include <algorithm>
#include <climits>
#include <string>

#include "cuda/check.h"
#include "cuda/cuda_backend.h"

namespace flare::cuda {
namespace {

cublasOperation_t op(bool t) { return t ? CUBLAS_OP_T : CUBLAS_OP_N; }

int to_int(int64_t v, const char* what) {
  if (v < 0 || v > INT_MAX)
    throw Error(std::string("cuda gemm: ") + what + " = " + std::to_string(v) +
                " does not fit cuBLAS's 32-bit sizes");
  return int(v);
}

// A row-major operand stored as rows x cols needs ld >= cols; with one row the value is never
// used to step, but cuBLAS still checks it, so callers' ld of 1-row operands is normalised.
int64_t fix_ld(int64_t ld, int64_t rows, int64_t cols) {
  return rows <= 1 ? std::max<int64_t>({ld, cols, 1}) : ld;
}

struct Dims {
  int m, n, k, lda, ldb, ldc;
};

Dims check_dims(bool ta, bool tb, int64_t m, int64_t n, int64_t k, int64_t lda, int64_t ldb,
                int64_t ldc) {
  // Stored shapes: A is (ta ? k x m : m x k), B is (tb ? n x k : k x n), C is m x n.
  lda = ta ? fix_ld(lda, k, m) : fix_ld(lda, m, k);
  ldb = tb ? fix_ld(ldb, n, k) : fix_ld(ldb, k, n);
  ldc = fix_ld(ldc, m, n);
  return {to_int(m, "m"), to_int(n, "n"), to_int(k, "k"), to_int(lda, "lda"), to_int(ldb, "ldb"),
          to_int(ldc, "ldc")};
}

}  // namespace

void CudaBackend::gemm(DType t, bool ta, bool tb, int64_t m, int64_t n, int64_t k, double alpha,
                       const void* a, int64_t lda, const void* b, int64_t ldb, double beta,
                       void* c, int64_t ldc) {
  if (m <= 0 || n <= 0) return;
  activate();
  if (k <= 0) {
    scale_2d(t, c, ldc, m, n, beta);
    return;
  }
  const Dims d = check_dims(ta, tb, m, n, k, lda, ldb, ldc);
  counters::blas.fetch_add(1, std::memory_order_relaxed);
  if (t == DType::f32) {
    const float al = float(alpha), be = float(beta);
    FLARE_CUBLAS_CHECK(cublasSgemm(blas_, op(tb), op(ta), d.n, d.m, d.k, &al,
                                   static_cast<const float*>(b), d.ldb,
                                   static_cast<const float*>(a), d.lda, &be,
                                   static_cast<float*>(c), d.ldc));
  } else {
    FLARE_CUBLAS_CHECK(cublasDgemm(blas_, op(tb), op(ta), d.n, d.m, d.k, &alpha,
                                   static_cast<const double*>(b), d.ldb,
                                   static_cast<const double*>(a), d.lda, &beta,
                                   static_cast<double*>(c), d.ldc));
  }
}

void CudaBackend::gemm_batched(DType t, bool ta, bool tb, int64_t m, int64_t n, int64_t k,
                               double alpha, const void* a, int64_t lda, int64_t sa,
                               const void* b, int64_t ldb, int64_t sb, double beta, void* c,
                               int64_t ldc, int64_t sc, int64_t count) {
  if (m <= 0 || n <= 0 || count <= 0) return;
  activate();
  if (sc == 0 && count > 1) {
    // A shared C accumulates the products one after another (as on the CPU); cuBLAS would run
    // them concurrently and race on C.
    const int64_t es = int64_t(dtype_size(t));
    for (int64_t i = 0; i < count; ++i)
      gemm(t, ta, tb, m, n, k, alpha, static_cast<const char*>(a) + i * sa * es, lda,
           static_cast<const char*>(b) + i * sb * es, ldb, beta, c, ldc);
    return;
  }
  if (k <= 0) {
    // Each product only scales its C; C's of a batch are disjoint, so scale them one by one.
    for (int64_t i = 0; i < count; ++i)
      scale_2d(t, static_cast<char*>(c) + i * sc * int64_t(dtype_size(t)), ldc, m, n, beta);
    return;
  }
  const Dims d = check_dims(ta, tb, m, n, k, lda, ldb, ldc);
  counters::blas.fetch_add(1, std::memory_order_relaxed);
  const int cnt = to_int(count, "count");
  if (t == DType::f32) {
    const float al = float(alpha), be = float(beta);
    FLARE_CUBLAS_CHECK(cublasSgemmStridedBatched(
        blas_, op(tb), op(ta), d.n, d.m, d.k, &al, static_cast<const float*>(b), d.ldb, sb,
        static_cast<const float*>(a), d.lda, sa, &be, static_cast<float*>(c), d.ldc, sc, cnt));
  } else {
    FLARE_CUBLAS_CHECK(cublasDgemmStridedBatched(
        blas_, op(tb), op(ta), d.n, d.m, d.k, &alpha, static_cast<const double*>(b), d.ldb, sb,
        static_cast<const double*>(a), d.lda, sa, &beta, static_cast<double*>(c), d.ldc, sc, cnt));
  }
}

}  // namespace flare::cuda
