// Memory, copies, gathers and random numbers on the CPU.
#include <cstdlib>
#include <cstring>
#include <new>

#include "backend/cpu_backend.h"
#include "backend/random.h"

namespace flare {

void* CpuBackend::allocate(size_t bytes) {
  // 64-byte alignment: whole cache lines, and any SIMD width.
  size_t rounded = (bytes + 63) / 64 * 64;
  void* p = std::aligned_alloc(64, rounded ? rounded : 64);
  if (!p) throw std::bad_alloc();
  return p;
}

void CpuBackend::deallocate(void* p, size_t) { std::free(p); }

void CpuBackend::to_host(void* dst, const void* src, size_t bytes) { std::memcpy(dst, src, bytes); }

void CpuBackend::from_host(void* dst, const void* src, size_t bytes) { std::memcpy(dst, src, bytes); }

void CpuBackend::copy_2d(DType t, void* y, int64_t ldy, const void* x, int64_t ldx, int64_t rows,
                         int64_t cols, bool accumulate) {
  dispatch_dtype(t, [&](auto z) {
    using T = decltype(z);
    T* py = static_cast<T*>(y);
    const T* px = static_cast<const T*>(x);
    for (int64_t r = 0; r < rows; ++r) {
      T* dst = py + r * ldy;
      const T* src = px + r * ldx;
      if (accumulate) {
        for (int64_t c = 0; c < cols; ++c) dst[c] += src[c];
      } else {
        std::memcpy(dst, src, size_t(cols) * sizeof(T));
      }
    }
  });
}

void CpuBackend::gather_rows(DType t, void* y, const void* table, const int32_t* idx, int64_t n,
                             int64_t row) {
  const size_t bytes = size_t(row) * dtype_size(t);
  for (int64_t i = 0; i < n; ++i)
    std::memcpy(static_cast<char*>(y) + i * bytes, static_cast<const char*>(table) + idx[i] * bytes, bytes);
}

void CpuBackend::scatter_add_rows(DType t, void* table, const void* x, const int32_t* idx,
                                  int64_t n, int64_t row) {
  dispatch_dtype(t, [&](auto z) {
    using T = decltype(z);
    for (int64_t i = 0; i < n; ++i) {
      T* dst = static_cast<T*>(table) + int64_t(idx[i]) * row;
      const T* src = static_cast<const T*>(x) + i * row;
      for (int64_t c = 0; c < row; ++c) dst[c] += src[c];
    }
  });
}

void CpuBackend::random(Dist d, DType t, void* y, int64_t n, double a, double b, uint64_t seed,
                        uint64_t offset) {
  dispatch_dtype(t, [&](auto z) {
    using T = decltype(z);
    T* p = static_cast<T*>(y);
    for (int64_t i = 0; i < n; ++i) {
      const uint64_t c = offset + uint64_t(i);
      switch (d) {
        case Dist::Uniform: p[i] = T(a + (b - a) * rng::uniform(seed, c)); break;
        case Dist::Normal: p[i] = T(a + b * rng::normal(seed, c)); break;
        case Dist::Bernoulli: p[i] = rng::uniform(seed, c) < a ? T(b) : T(0); break;
      }
    }
  });
}

}  // namespace flare
