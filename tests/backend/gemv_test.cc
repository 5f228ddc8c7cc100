// The CPU backend's float matrix-vector and rank-1 paths (its own kernels for most shapes, BLAS
// for tall transposed ones) against double-precision references, over shapes with every kind of
// tail (rows and columns not multiples of 4, 8, 16 or 64), ger_batched against the rank-1
// calls it replaces, and the few-vector products against the one-vector ones, bit for bit.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "flare/backend.h"

namespace flare {
namespace {

std::vector<float> random_vector(size_t n, std::mt19937& g) {
  std::uniform_real_distribution<float> u(-1.f, 1.f);
  std::vector<float> v(n);
  for (float& x : v) x = u(g);
  return v;
}

// Worst |got - want| / (|want| + sum of |terms|): relative to the size of what was summed.
struct Err {
  double worst = 0;
  void add(double got, double want, double scale) { worst = std::max(worst, std::fabs(got - want) / (scale + 1e-30)); }
};

const int64_t kShapes[][2] = {{1, 1},   {1, 9},   {3, 1},    {4, 8},   {5, 7},    {7, 33},   {8, 16},
                              {9, 17},  {13, 50}, {32, 100}, {31, 65}, {64, 64},  {65, 63},  {200, 50},
                              {256, 20}, {130, 129}, {640, 128}, {512, 256}, {1030, 70}, {2048, 100}};

TEST(CpuGemv, MatrixVectorBothWays) {
  Backend& be = backend(Device::cpu());
  std::mt19937 gen(7);
  for (const auto& s : kShapes) {
    const int64_t m = s[0], k = s[1];
    SCOPED_TRACE(std::to_string(m) + "x" + std::to_string(k));
    const std::vector<float> A = random_vector(size_t(m * k), gen), x = random_vector(size_t(k), gen),
                             u = random_vector(size_t(m), gen), y0 = random_vector(size_t(m), gen),
                             z0 = random_vector(size_t(k), gen);
    for (double beta : {0.0, 1.0, 0.5}) {
      // y = 0.75 A x + beta y  (row-major A [m,k], gemm with n = 1)
      std::vector<float> y = y0;
      be.gemm(DType::f32, false, false, m, 1, k, 0.75, A.data(), k, x.data(), 1, beta, y.data(), 1);
      Err e;
      for (int64_t i = 0; i < m; ++i) {
        double want = beta * y0[size_t(i)], scale = std::fabs(want);
        for (int64_t j = 0; j < k; ++j) {
          const double t = 0.75 * double(A[size_t(i * k + j)]) * x[size_t(j)];
          want += t, scale += std::fabs(t);
        }
        e.add(y[size_t(i)], want, scale);
      }
      EXPECT_LT(e.worst, 1e-6) << "A x, beta " << beta;
      // z = 0.75 A^T u + beta z  (the input gradient of a matrix-vector product)
      std::vector<float> z = z0;
      be.gemm(DType::f32, true, false, k, 1, m, 0.75, A.data(), k, u.data(), 1, beta, z.data(), 1);
      Err f;
      for (int64_t j = 0; j < k; ++j) {
        double want = beta * z0[size_t(j)], scale = std::fabs(want);
        for (int64_t i = 0; i < m; ++i) {
          const double t = 0.75 * double(A[size_t(i * k + j)]) * u[size_t(i)];
          want += t, scale += std::fabs(t);
        }
        f.add(z[size_t(j)], want, scale);
      }
      EXPECT_LT(f.worst, 1e-6) << "A^T u, beta " << beta;
      // The row-vector form: z^T = 0.75 u^T A + beta z^T (m == 1 in gemm's terms).
      std::vector<float> r = z0;
      be.gemm(DType::f32, false, false, 1, k, m, 0.75, u.data(), m, A.data(), k, beta, r.data(), k);
      for (int64_t j = 0; j < k; ++j) EXPECT_NEAR(r[size_t(j)], z[size_t(j)], 1e-5) << "u^T A at " << j;
    }
  }
}

TEST(CpuGemv, RankOneUpdateAndItsBatchedFormAreBitIdentical) {
  Backend& be = backend(Device::cpu());
  std::mt19937 gen(11);
  for (const auto& s : kShapes) {
    const int64_t m = s[0], k = s[1];
    SCOPED_TRACE(std::to_string(m) + "x" + std::to_string(k));
    const int count = 5;
    std::vector<std::vector<float>> a, b;
    std::vector<const void*> ap, bp;
    for (int t = 0; t < count; ++t) {
      a.push_back(random_vector(size_t(m), gen));
      b.push_back(random_vector(size_t(k), gen));
    }
    for (int t = 0; t < count; ++t) ap.push_back(a[size_t(t)].data()), bp.push_back(b[size_t(t)].data());
    const std::vector<float> c0 = random_vector(size_t(m * k), gen);
    std::vector<float> one_by_one = c0, batched = c0;
    for (int t = 0; t < count; ++t)
      be.gemm(DType::f32, false, true, m, k, 1, 0.5, ap[size_t(t)], 1, bp[size_t(t)], 1, 1.0, one_by_one.data(), k);
    be.ger_batched(DType::f32, m, k, 0.5, ap.data(), bp.data(), count, batched.data(), k);
    EXPECT_EQ(std::memcmp(one_by_one.data(), batched.data(), batched.size() * sizeof(float)), 0);
    Err e;
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < k; ++j) {
        double want = c0[size_t(i * k + j)], scale = std::fabs(want);
        for (int t = 0; t < count; ++t) {
          const double v = 0.5 * double(a[size_t(t)][size_t(i)]) * b[size_t(t)][size_t(j)];
          want += v, scale += std::fabs(v);
        }
        e.add(one_by_one[size_t(i * k + j)], want, scale);
      }
    EXPECT_LT(e.worst, 1e-6);
  }
}

// A few vectors against one matrix (a tree level, a small batch): gemm shapes that the CPU
// backend sends to its multi-vector kernels. Each vector must come out exactly as a
// matrix-vector product of it alone would (so batching a level changes no forward bits); the
// weight-gradient form (BLAS) to rounding.
TEST(CpuGemv, FewVectorsAgainstOneMatrixRoundAsOneByOne) {
  Backend& be = backend(Device::cpu());
  std::mt19937 gen(13);
  for (const auto& s : kShapes) {
    const int64_t m = s[0], k = s[1];
    if (m == 1 || k == 1) continue;  // vector-vector shapes take other paths
    for (int64_t nv : {2, 3, 4, 5, 6, 7, 8}) {
      SCOPED_TRACE(std::to_string(m) + "x" + std::to_string(k) + ", " + std::to_string(nv) + " vectors");
      const std::vector<float> A = random_vector(size_t(m * k), gen), X = random_vector(size_t(nv * k), gen),
                               U = random_vector(size_t(nv * m), gen), y0 = random_vector(size_t(nv * m), gen),
                               z0 = random_vector(size_t(nv * k), gen);
      for (double beta : {0.0, 1.0, 0.5}) {
        // Y [nv,m] = 0.75 X [nv,k] A^T + beta Y: row v is A x_v.
        std::vector<float> Y = y0, one = y0;
        be.gemm(DType::f32, false, true, nv, m, k, 0.75, X.data(), k, A.data(), k, beta, Y.data(), m);
        for (int64_t v = 0; v < nv; ++v)
          be.gemm(DType::f32, false, false, m, 1, k, 0.75, A.data(), k, X.data() + v * k, 1, beta,
                  one.data() + v * m, 1);
        EXPECT_EQ(std::memcmp(Y.data(), one.data(), Y.size() * sizeof(float)), 0) << "X A^T, beta " << beta;
        // Z [nv,k] = 0.75 U [nv,m] A + beta Z: row v is A^T u_v.
        std::vector<float> Z = z0, zone = z0;
        be.gemm(DType::f32, false, false, nv, k, m, 0.75, U.data(), m, A.data(), k, beta, Z.data(), k);
        for (int64_t v = 0; v < nv; ++v)
          be.gemm(DType::f32, true, false, k, 1, m, 0.75, A.data(), k, U.data() + v * m, 1, beta,
                  zone.data() + v * k, 1);
        Err e;
        for (int64_t v = 0; v < nv; ++v)
          for (int64_t j = 0; j < k; ++j) {
            double want = beta * z0[size_t(v * k + j)], scale = std::fabs(want);
            for (int64_t i = 0; i < m; ++i) {
              const double t = 0.75 * double(A[size_t(i * k + j)]) * U[size_t(v * m + i)];
              want += t, scale += std::fabs(t);
            }
            e.add(Z[size_t(v * k + j)], want, scale);
          }
        EXPECT_LT(e.worst, 1e-6) << "U A, beta " << beta;
        // Where both are this library's own kernels (up to 6 vectors; not BLAS), bit for bit.
        if (m * k <= 128 * 1024 && nv <= 6) {
          EXPECT_EQ(std::memcmp(Z.data(), zone.data(), Z.size() * sizeof(float)), 0) << "U A, beta " << beta;
        }
      }
      // dA [m,k] += 0.5 U^T [m,nv] X [nv,k] (BLAS; eagerly these terms are deferred instead).
      const std::vector<float> c0 = random_vector(size_t(m * k), gen);
      std::vector<float> C = c0;
      be.gemm(DType::f32, true, false, m, k, nv, 0.5, U.data(), m, X.data(), k, 1.0, C.data(), k);
      Err e;
      for (int64_t i = 0; i < m; ++i)
        for (int64_t j = 0; j < k; ++j) {
          double want = c0[size_t(i * k + j)], scale = std::fabs(want);
          for (int64_t v = 0; v < nv; ++v) {
            const double t = 0.5 * double(U[size_t(v * m + i)]) * X[size_t(v * k + j)];
            want += t, scale += std::fabs(t);
          }
          e.add(C[size_t(i * k + j)], want, scale);
        }
      EXPECT_LT(e.worst, 1e-6) << "U^T X";
    }
  }
}

}  // namespace
}  // namespace flare
