#pragma once
// Float matrix-vector and rank-1 kernels (AVX2 + FMA, with plain loops otherwise) for the
// shapes dynamic models make one example at a time: gates of an LSTM (512x128), a Tree-LSTM
// (640x128), an MLP layer. A BLAS call pays argument checks and dispatch, and OpenBLAS's
// row-major ger runs one axpy per row; these loops beat it from 5x5 up to well past 1024x256.
// Row tails shorter than 8 use masked loads and stores, so odd sizes (50, 20) stay vectorised.
//
// The rank-1 update's rounding is part of its contract: every element gets
// c = fma(alpha * a[i], b[j], c), rank-1 term after rank-1 term, in ger() and ger_batched()
// alike, so deferring a sequence of ger() calls into one ger_batched() (the weight gradient of
// a matrix-vector product used at many nodes) gives bit-identical results.
#include <cstdint>

#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
#define FLARE_GEMV_AVX2 1
#endif

namespace flare::cpu {

#ifdef FLARE_GEMV_AVX2
// Lanes [0, r) set, for r in 1..8.
inline __m256i lanes(int64_t r) {
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(int(r)), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}
inline float hsum(__m256 v) {
  __m128 h = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  h = _mm_add_ps(h, _mm_movehl_ps(h, h));
  return _mm_cvtss_f32(_mm_add_ss(h, _mm_shuffle_ps(h, h, 1)));
}
#endif

/// y[i * incy] = alpha * (A x)[i] + beta * y[i * incy]; A is m x k with rows of stride lda, x
/// contiguous. Four rows share each load of x.
inline void gemv_n(int64_t m, int64_t k, float alpha, const float* a, int64_t lda, const float* x, float beta,
                   float* y, int64_t incy) {
  auto put = [&](int64_t i, float d) {
    float& o = y[i * incy];
    o = beta == 0.f ? alpha * d : alpha * d + beta * o;
  };
  int64_t i = 0;
#ifdef FLARE_GEMV_AVX2
  const int64_t kv = k / 8 * 8, rem = k - kv;
  const __m256i mk = lanes(rem ? rem : 8);
  const __m256 xt = rem ? _mm256_maskload_ps(x + kv, mk) : _mm256_setzero_ps();
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
    if (rem) {
      s0 = _mm256_fmadd_ps(_mm256_maskload_ps(r0 + kv, mk), xt, s0);
      s1 = _mm256_fmadd_ps(_mm256_maskload_ps(r1 + kv, mk), xt, s1);
      s2 = _mm256_fmadd_ps(_mm256_maskload_ps(r2 + kv, mk), xt, s2);
      s3 = _mm256_fmadd_ps(_mm256_maskload_ps(r3 + kv, mk), xt, s3);
    }
    put(i, hsum(s0)), put(i + 1, hsum(s1)), put(i + 2, hsum(s2)), put(i + 3, hsum(s3));
  }
  for (; i < m; ++i) {
    const float* r0 = a + i * lda;
    __m256 s0 = _mm256_setzero_ps();
    for (int64_t j = 0; j < kv; j += 8) s0 = _mm256_fmadd_ps(_mm256_loadu_ps(r0 + j), _mm256_loadu_ps(x + j), s0);
    if (rem) s0 = _mm256_fmadd_ps(_mm256_maskload_ps(r0 + kv, mk), xt, s0);
    put(i, hsum(s0));
  }
#endif
  for (; i < m; ++i) {
    float d = 0.f;
    for (int64_t j = 0; j < k; ++j) d += a[i * lda + j] * x[j];
    put(i, d);
  }
}

#ifdef FLARE_GEMV_AVX2
// Rows [i, i + R) of A against NV vectors: R * NV independent eight-lane sums. Each sum is one
// FMA chain, and Zen 3 needs eight chains in flight to keep both FMA pipes busy (four cycles of
// latency): two rows for two vectors, as before, left it at half rate (1.3x slower for two
// vectors, measured on 640x128 and 128x256). Every sum rounds as gemv_n's row sum does.
// Forced inline: GCC left it a call per block of rows, which made four vectors 10% slower.
template <int R, int NV>
[[gnu::always_inline]] inline void gemv_n_rows(int64_t i, int64_t kv, int64_t rem, __m256i mk, float alpha,
                                               const float* a, int64_t lda, const float* x, int64_t ldx, float beta,
                                               float* y, int64_t ldy) {
  __m256 s[R][NV];
  for (int r = 0; r < R; ++r)
    for (int v = 0; v < NV; ++v) s[r][v] = _mm256_setzero_ps();
  const float* rows = a + i * lda;
  auto add = [&](__m256 (&ar)[R], auto load_x) {
    for (int v = 0; v < NV; ++v) {
      const __m256 xv = load_x(v);
      for (int r = 0; r < R; ++r) s[r][v] = _mm256_fmadd_ps(ar[r], xv, s[r][v]);
    }
  };
  for (int64_t j = 0; j < kv; j += 8) {
    __m256 ar[R];
    for (int r = 0; r < R; ++r) ar[r] = _mm256_loadu_ps(rows + r * lda + j);
    add(ar, [&](int v) { return _mm256_loadu_ps(x + v * ldx + j); });
  }
  if (rem) {
    __m256 ar[R];
    for (int r = 0; r < R; ++r) ar[r] = _mm256_maskload_ps(rows + r * lda + kv, mk);
    add(ar, [&](int v) { return _mm256_maskload_ps(x + v * ldx + kv, mk); });
  }
  for (int v = 0; v < NV; ++v)
    for (int r = 0; r < R; ++r) {
      float& o = y[v * ldy + i + r];
      const float d = hsum(s[r][v]);
      o = beta == 0.f ? alpha * d : alpha * d + beta * o;
    }
}

// gemv_n_multi for NV vectors, R rows of A at a time (then single rows).
template <int R, int NV>
inline void gemv_n_group(int64_t m, int64_t k, float alpha, const float* a, int64_t lda, const float* x,
                         int64_t ldx, float beta, float* y, int64_t ldy) {
  const int64_t kv = k / 8 * 8, rem = k - kv;
  const __m256i mk = lanes(rem ? rem : 8);
  int64_t i = 0;
  for (; i + R <= m; i += R) gemv_n_rows<R, NV>(i, kv, rem, mk, alpha, a, lda, x, ldx, beta, y, ldy);
  for (; i < m; ++i) gemv_n_rows<1, NV>(i, kv, rem, mk, alpha, a, lda, x, ldx, beta, y, ldy);
}
#endif

/// gemv_n for nv vectors against one matrix: y_v = alpha * A x_v + beta * y_v with x_v = x +
/// v * ldx and y_v = y + v * ldy (each contiguous). A is read from memory once for up to four
/// vectors (a tree level, a small batch) instead of once per vector, and every y_v rounds
/// exactly as gemv_n(m, k, alpha, a, lda, x_v, beta, y_v, 1) does: the same eight-lane sums.
inline void gemv_n_multi(int64_t m, int64_t k, float alpha, const float* a, int64_t lda, const float* x,
                         int64_t ldx, int64_t nv, float beta, float* y, int64_t ldy) {
#ifdef FLARE_GEMV_AVX2
  for (int64_t v = 0; v < nv; v += 4) {
    const float* xv = x + v * ldx;
    float* yv = y + v * ldy;
    switch (nv - v < 4 ? nv - v : 4) {
      case 1: gemv_n(m, k, alpha, a, lda, xv, beta, yv, 1); break;
      case 2: gemv_n_group<4, 2>(m, k, alpha, a, lda, xv, ldx, beta, yv, ldy); break;
      case 3: gemv_n_group<3, 3>(m, k, alpha, a, lda, xv, ldx, beta, yv, ldy); break;
      default: gemv_n_group<2, 4>(m, k, alpha, a, lda, xv, ldx, beta, yv, ldy); break;
    }
  }
#else
  for (int64_t v = 0; v < nv; ++v) gemv_n(m, k, alpha, a, lda, x + v * ldx, beta, y + v * ldy, 1);
#endif
}

#ifdef FLARE_GEMV_AVX2
// gemv_t over one block of nb <= 8 * V columns held in V registers across all k rows.
template <int V>
inline void gemv_t_block(int64_t k, int64_t nb, float alpha, const float* a, int64_t lda, const float* x,
                         int64_t incx, float beta, float* y) {
  __m256 acc[V];
  for (int v = 0; v < V; ++v) acc[v] = _mm256_setzero_ps();
  const int64_t rem = nb - 8 * (V - 1);
  const __m256i mk = lanes(rem);
  for (int64_t i = 0; i < k; ++i) {
    const __m256 xi = _mm256_set1_ps(x[i * incx]);
    const float* row = a + i * lda;
    for (int v = 0; v < V - 1; ++v) acc[v] = _mm256_fmadd_ps(xi, _mm256_loadu_ps(row + 8 * v), acc[v]);
    const float* last = row + 8 * (V - 1);
    acc[V - 1] = _mm256_fmadd_ps(xi, rem == 8 ? _mm256_loadu_ps(last) : _mm256_maskload_ps(last, mk), acc[V - 1]);
  }
  const __m256 al = _mm256_set1_ps(alpha), be = _mm256_set1_ps(beta);
  for (int v = 0; v < V; ++v) {
    float* yp = y + 8 * v;
    const bool part = v == V - 1 && rem != 8;
    __m256 r = _mm256_mul_ps(al, acc[v]);
    if (beta != 0.f) r = _mm256_fmadd_ps(be, part ? _mm256_maskload_ps(yp, mk) : _mm256_loadu_ps(yp), r);
    if (part)
      _mm256_maskstore_ps(yp, mk, r);
    else
      _mm256_storeu_ps(yp, r);
  }
}
#endif

#ifdef FLARE_GEMV_AVX2
// Rows [i, i + 4) of A added into NV vectors y_v = y + v * ldy, each column block of the rows
// loaded once for all NV (the loads, not the FMAs, bound this loop: one vector at a time costs
// five loads per four FMAs). Per element the same four FMAs in the same order as for one vector.
template <int NV>
[[gnu::always_inline]] inline void gemv_t_rows4(int64_t i, int64_t nv8, int64_t rem, __m256i mk, float alpha,
                                                const float* a, int64_t lda, const float* x, int64_t incx, int64_t ldx,
                                                float* y, int64_t ldy) {
  const float* r0 = a + i * lda;
  const float* r1 = r0 + lda;
  const float* r2 = r1 + lda;
  const float* r3 = r2 + lda;
  __m256 xs[NV][4];
  for (int v = 0; v < NV; ++v)
    for (int q = 0; q < 4; ++q) xs[v][q] = _mm256_set1_ps(alpha * x[v * ldx + (i + q) * incx]);
  auto add = [&](int64_t j, __m256 a0, __m256 a1, __m256 a2, __m256 a3, auto load_y, auto store_y) {
    for (int v = 0; v < NV; ++v) {
      float* yv = y + v * ldy + j;
      __m256 s = load_y(yv);
      s = _mm256_fmadd_ps(xs[v][0], a0, s);
      s = _mm256_fmadd_ps(xs[v][1], a1, s);
      s = _mm256_fmadd_ps(xs[v][2], a2, s);
      s = _mm256_fmadd_ps(xs[v][3], a3, s);
      store_y(yv, s);
    }
  };
  int64_t j = 0;
  for (; j < nv8; j += 8)
    add(j, _mm256_loadu_ps(r0 + j), _mm256_loadu_ps(r1 + j), _mm256_loadu_ps(r2 + j), _mm256_loadu_ps(r3 + j),
        [](const float* p) { return _mm256_loadu_ps(p); }, [](float* p, __m256 s) { _mm256_storeu_ps(p, s); });
  if (rem)
    add(j, _mm256_maskload_ps(r0 + j, mk), _mm256_maskload_ps(r1 + j, mk), _mm256_maskload_ps(r2 + j, mk),
        _mm256_maskload_ps(r3 + j, mk), [&](const float* p) { return _mm256_maskload_ps(p, mk); },
        [&](float* p, __m256 s) { _mm256_maskstore_ps(p, mk, s); });
}
#endif

// The wide form of gemv_t (n > 64) for nv vectors x_v = x + v * ldx (elements of stride incx)
// into y_v = y + v * ldy: four rows of A at a time are added into every y_v (up to three
// vectors per pass over the rows' columns), so a block of A is read from memory once and from
// L1 for the other vectors. Each y_v rounds as it would alone.
inline void gemv_t_wide(int64_t k, int64_t n, float alpha, const float* a, int64_t lda, const float* x,
                        int64_t incx, int64_t ldx, int64_t nv, float beta, float* y, int64_t ldy) {
  for (int64_t v = 0; v < nv; ++v) {
    float* yv = y + v * ldy;
    if (beta == 0.f) {
      for (int64_t j = 0; j < n; ++j) yv[j] = 0.f;
    } else if (beta != 1.f) {
      for (int64_t j = 0; j < n; ++j) yv[j] *= beta;
    }
  }
  int64_t i = 0;
#ifdef FLARE_GEMV_AVX2
  const int64_t nv8 = n / 8 * 8, rem = n - nv8;
  const __m256i mk = lanes(rem ? rem : 8);
  if (nv == 1)  // the common case, without the chunking below
    for (; i + 4 <= k; i += 4) gemv_t_rows4<1>(i, nv8, rem, mk, alpha, a, lda, x, incx, ldx, y, ldy);
  for (; i + 4 <= k; i += 4) {
    for (int64_t v = 0; v < nv;) {
      // Three vectors per pass (more would spill the broadcasts), four as two and two.
      const int64_t left = nv - v, c = left == 4 ? 2 : left < 3 ? left : 3;
      const float* xv = x + v * ldx;
      float* yv = y + v * ldy;
      if (c == 3) gemv_t_rows4<3>(i, nv8, rem, mk, alpha, a, lda, xv, incx, ldx, yv, ldy);
      else if (c == 2) gemv_t_rows4<2>(i, nv8, rem, mk, alpha, a, lda, xv, incx, ldx, yv, ldy);
      else gemv_t_rows4<1>(i, nv8, rem, mk, alpha, a, lda, xv, incx, ldx, yv, ldy);
      v += c;
    }
  }
#endif
  for (; i < k; ++i) {
    const float* row = a + i * lda;
    for (int64_t v = 0; v < nv; ++v) {
      const float xi = alpha * x[v * ldx + i * incx];
      float* yv = y + v * ldy;
      for (int64_t j = 0; j < n; ++j) yv[j] = __builtin_fmaf(xi, row[j], yv[j]);
    }
  }
}

/// y (n, contiguous) = alpha * A^T x + beta * y; A is k x n with rows of stride lda, x of
/// stride incx. Up to 64 columns stay in registers across all rows; wider ones are read four
/// rows at a time into y (which stays in L1).
inline void gemv_t(int64_t k, int64_t n, float alpha, const float* a, int64_t lda, const float* x, int64_t incx,
                   float beta, float* y) {
#ifdef FLARE_GEMV_AVX2
  if (n <= 64) {
    switch ((n + 7) / 8) {
      case 0: return;
      case 1: return gemv_t_block<1>(k, n, alpha, a, lda, x, incx, beta, y);
      case 2: return gemv_t_block<2>(k, n, alpha, a, lda, x, incx, beta, y);
      case 3: return gemv_t_block<3>(k, n, alpha, a, lda, x, incx, beta, y);
      case 4: return gemv_t_block<4>(k, n, alpha, a, lda, x, incx, beta, y);
      case 5: return gemv_t_block<5>(k, n, alpha, a, lda, x, incx, beta, y);
      case 6: return gemv_t_block<6>(k, n, alpha, a, lda, x, incx, beta, y);
      case 7: return gemv_t_block<7>(k, n, alpha, a, lda, x, incx, beta, y);
      default: return gemv_t_block<8>(k, n, alpha, a, lda, x, incx, beta, y);
    }
  }
#endif
  gemv_t_wide(k, n, alpha, a, lda, x, incx, 0, 1, beta, y, 0);
}

/// gemv_t for nv vectors against one matrix: y_v = alpha * A^T x_v + beta * y_v with x_v = x +
/// v * ldx (contiguous) and y_v = y + v * ldy, each rounding exactly as gemv_t would alone. Wide
/// matrices (n > 64) are read once for all the vectors; narrow ones fit in cache anyway.
inline void gemv_t_multi(int64_t k, int64_t n, float alpha, const float* a, int64_t lda, const float* x,
                         int64_t ldx, int64_t nv, float beta, float* y, int64_t ldy) {
#ifdef FLARE_GEMV_AVX2
  if (n > 64) return gemv_t_wide(k, n, alpha, a, lda, x, 1, ldx, nv, beta, y, ldy);
#endif
  for (int64_t v = 0; v < nv; ++v) gemv_t(k, n, alpha, a, lda, x + v * ldx, 1, beta, y + v * ldy);
}

/// c (m x n, rows of stride ldc) += alpha * a b^T, a of stride inca, b contiguous: the weight
/// gradient of a matrix-vector product. Element by element c = fma(alpha * a[i], b[j], c).
inline void ger(int64_t m, int64_t n, float alpha, const float* a, int64_t inca, const float* b, float* c,
                int64_t ldc) {
  for (int64_t i = 0; i < m; ++i) {
    const float ai = alpha * a[i * inca];
    float* row = c + i * ldc;
    int64_t j = 0;
#ifdef FLARE_GEMV_AVX2
    const __m256 av = _mm256_set1_ps(ai);
    for (; j + 8 <= n; j += 8) _mm256_storeu_ps(row + j, _mm256_fmadd_ps(av, _mm256_loadu_ps(b + j), _mm256_loadu_ps(row + j)));
#endif
    // Scalar fma rounds as the vector one does (a masked store per row costs more on AMD).
    for (; j < n; ++j) row[j] = __builtin_fmaf(ai, b[j], row[j]);
  }
}

/// c += sum over t of alpha * a[t] b[t]^T, terms applied in order t = 0..count-1 exactly as
/// `count` calls of ger() would (a[t] and b[t] contiguous), but reading and writing c once: a
/// 16-column strip of c stays in registers while every term is added.
inline void ger_batched(int64_t m, int64_t n, float alpha, const float* const* a, const float* const* b,
                        int64_t count, float* c, int64_t ldc) {
  int64_t i = 0;
#ifdef FLARE_GEMV_AVX2
  // Four rows by 16 columns per pass: each term costs four broadcasts, two loads, eight fmas.
  for (; i + 4 <= m; i += 4) {
    float* r0 = c + i * ldc;
    int64_t j = 0;
    for (; j + 16 <= n; j += 16) {
      __m256 acc[4][2];
      for (int r = 0; r < 4; ++r)
        acc[r][0] = _mm256_loadu_ps(r0 + r * ldc + j), acc[r][1] = _mm256_loadu_ps(r0 + r * ldc + j + 8);
      for (int64_t t = 0; t < count; ++t) {
        const float* at = a[t] + i;
        const __m256 b0 = _mm256_loadu_ps(b[t] + j), b1 = _mm256_loadu_ps(b[t] + j + 8);
        for (int r = 0; r < 4; ++r) {
          const __m256 ar = _mm256_set1_ps(alpha * at[r]);
          acc[r][0] = _mm256_fmadd_ps(ar, b0, acc[r][0]);
          acc[r][1] = _mm256_fmadd_ps(ar, b1, acc[r][1]);
        }
      }
      for (int r = 0; r < 4; ++r)
        _mm256_storeu_ps(r0 + r * ldc + j, acc[r][0]), _mm256_storeu_ps(r0 + r * ldc + j + 8, acc[r][1]);
    }
    for (; j < n; j += 8) {
      const __m256i mk = lanes(n - j < 8 ? n - j : 8);
      __m256 acc[4];
      for (int r = 0; r < 4; ++r) acc[r] = _mm256_maskload_ps(r0 + r * ldc + j, mk);
      for (int64_t t = 0; t < count; ++t) {
        const __m256 bt = _mm256_maskload_ps(b[t] + j, mk);
        for (int r = 0; r < 4; ++r) acc[r] = _mm256_fmadd_ps(_mm256_set1_ps(alpha * a[t][i + r]), bt, acc[r]);
      }
      for (int r = 0; r < 4; ++r) _mm256_maskstore_ps(r0 + r * ldc + j, mk, acc[r]);
    }
  }
#endif
  for (; i < m; ++i) {
    float* row = c + i * ldc;
    for (int64_t j = 0; j < n; ++j) {
      float acc = row[j];
      for (int64_t t = 0; t < count; ++t) acc = __builtin_fmaf(alpha * a[t][i], b[t][j], acc);
      row[j] = acc;
    }
  }
}

}  // namespace flare::cpu
