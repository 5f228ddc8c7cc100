// Data movement: transposes, strided 2-D copies, row gathers and scatters (index lists come
// from the host through the pinned staging ring); and two pieces of the matrix products that
// cuBLAS does not cover: sums of rank-1 terms (ger_batched) and the beta-scaling of empty ones.
#include <algorithm>
#include <climits>
#include <vector>

#include "cuda/cuda_backend.h"
#include "cuda/launch.cuh"

namespace flare::cuda {
namespace {

constexpr int kTile = 32, kTileRows = 8;

// Matrices of at least a tile each way: through a shared-memory tile, so both the reads of x
// and the writes of y are coalesced. The padding column avoids bank conflicts.
template <typename T>
__global__ void transpose_tiled(T* y, const T* x, int64_t rows, int64_t cols, int64_t count,
                                bool acc) {
  __shared__ T tile[kTile][kTile + 1];
  for (int64_t c = blockIdx.z; c < count; c += gridDim.z) {
    const T* xc = x + c * rows * cols;
    T* yc = y + c * rows * cols;
    for (int64_t r0 = int64_t(blockIdx.y) * kTile; r0 < rows; r0 += int64_t(gridDim.y) * kTile)
      for (int64_t c0 = int64_t(blockIdx.x) * kTile; c0 < cols; c0 += int64_t(gridDim.x) * kTile) {
        for (int k = threadIdx.y; k < kTile; k += kTileRows) {
          const int64_t r = r0 + k, cc = c0 + threadIdx.x;
          if (r < rows && cc < cols) tile[k][threadIdx.x] = xc[r * cols + cc];
        }
        __syncthreads();
        for (int k = threadIdx.y; k < kTile; k += kTileRows) {
          const int64_t oc = c0 + k, orow = r0 + threadIdx.x;  // y[oc][orow] = x[orow][oc]
          if (oc < cols && orow < rows) {
            T* p = yc + oc * rows + orow;
            const T v = tile[threadIdx.x][k];
            *p = acc ? *p + v : v;
          }
        }
        __syncthreads();
      }
  }
}

// Thin or small matrices (vectors, per-example slices): one thread per element.
template <typename T>
__global__ void transpose_flat(T* y, const T* x, int64_t rows, int64_t cols, int64_t count,
                               bool acc) {
  const int64_t rc = rows * cols;
  FLARE_GRID_LOOP(k, count * rc) {
    const int64_t c = k / rc, e = k - c * rc, i = e / cols, j = e - i * cols;
    T* p = y + c * rc + j * rows + i;
    *p = acc ? *p + x[k] : x[k];
  }
}

template <typename T>
__global__ void copy_2d_kernel(T* y, int64_t ldy, const T* x, int64_t ldx, int64_t rows,
                               int64_t cols, bool acc) {
  FLARE_GRID_LOOP(k, rows * cols) {
    const int64_t r = k / cols, c = k - r * cols;
    T* p = y + r * ldy + c;
    *p = acc ? *p + x[r * ldx + c] : x[r * ldx + c];
  }
}

// One block per segment (grid-stride over segments), its threads over the segment's elements.
template <typename T>
__global__ void copy_segments_kernel(T* const* dst, const T* const* src, const int64_t* off, int64_t count,
                                     bool accumulate) {
  for (int64_t s = blockIdx.x; s < count; s += gridDim.x) {
    T* y = dst[s];
    const T* x = src[s];
    const int64_t n = off[s + 1] - off[s];
    if (accumulate)
      for (int64_t i = threadIdx.x; i < n; i += blockDim.x) y[i] += x[i];
    else
      for (int64_t i = threadIdx.x; i < n; i += blockDim.x) y[i] = x[i];
  }
}

template <typename T>
__global__ void gather_kernel(T* y, const T* table, const int32_t* idx, int64_t n, int64_t row) {
  FLARE_GRID_LOOP(k, n * row) {
    const int64_t i = k / row;
    y[k] = table[int64_t(idx[i]) * row + (k - i * row)];
  }
}

// Ids may repeat. Rather than atomics (whose order changes from run to run), the host groups
// the positions by target row; one thread per (group, column) adds its rows in their given
// order, which is also the CPU's order, so results repeat exactly and match the CPU's.
template <typename T>
__global__ void scatter_groups_kernel(T* table, const T* x, const int32_t* rows,
                                      const int32_t* offsets, const int32_t* pos, int64_t groups,
                                      int64_t row) {
  FLARE_GRID_LOOP(k, groups * row) {
    const int64_t g = k / row, c = k - g * row;
    T* p = table + int64_t(rows[g]) * row + c;
    T acc = *p;
    for (int32_t q = offsets[g]; q < offsets[g + 1]; ++q) acc += x[int64_t(pos[q]) * row + c];
    *p = acc;
  }
}

// beta == 0 writes zeros even over NaN, as BLAS does.
template <typename T>
__global__ void scale_2d_kernel(T* c, int64_t ldc, int64_t rows, int64_t cols, T beta) {
  FLARE_GRID_LOOP(k, rows * cols) {
    const int64_t r = k / cols;
    T* p = c + r * ldc + (k - r * cols);
    *p = beta == T(0) ? T(0) : *p * beta;
  }
}

// c[i][j] += sum over t of a[t][i] * (alpha * b[t][j]), the terms added in order (as the
// rank-1 updates they stand for); one thread per element of c, one pass over c.
template <typename T>
__global__ void ger_batched_kernel(T* c, int64_t ldc, int64_t m, int64_t n, T alpha,
                                   const T* const* a, const T* const* b, int64_t count) {
  FLARE_GRID_LOOP(k, m * n) {
    const int64_t i = k / n, j = k - i * n;
    T acc = c[i * ldc + j];
    for (int64_t t = 0; t < count; ++t) acc += a[t][i] * (alpha * b[t][j]);
    c[i * ldc + j] = acc;
  }
}

unsigned clamp_grid(int64_t v) { return unsigned(v < 1 ? 1 : (v > 65535 ? 65535 : v)); }

}  // namespace

void CudaBackend::transpose(DType t, void* y, const void* x, int64_t rows, int64_t cols,
                            int64_t count, bool accumulate) {
  if (rows <= 0 || cols <= 0 || count <= 0) return;
  activate();
  dispatch_dtype(t, [&](auto z) {
    using T = decltype(z);
    T* py = static_cast<T*>(y);
    const T* px = static_cast<const T*>(x);
    if (rows >= kTile && cols >= kTile) {
      dim3 grid(clamp_grid((cols + kTile - 1) / kTile), clamp_grid((rows + kTile - 1) / kTile),
                clamp_grid(count));
      transpose_tiled<T><<<grid, dim3(kTile, kTileRows), 0, stream_>>>(py, px, rows, cols, count,
                                                                       accumulate);
    } else {
      transpose_flat<T><<<blocks_for(count * rows * cols), kThreads, 0, stream_>>>(
          py, px, rows, cols, count, accumulate);
    }
    FLARE_CUDA_LAUNCHED(transpose);
  });
}

void CudaBackend::copy_2d(DType t, void* y, int64_t ldy, const void* x, int64_t ldx, int64_t rows,
                          int64_t cols, bool accumulate) {
  if (rows <= 0 || cols <= 0) return;
  activate();
  const size_t es = dtype_size(t);
  if (!accumulate && (rows == 1 || (ldy == cols && ldx == cols))) {
    FLARE_CUDA_CHECK(cudaMemcpyAsync(y, x, size_t(rows * cols) * es, cudaMemcpyDeviceToDevice,
                                     stream_));
    counters::copies.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  if (!accumulate && ldy >= cols && ldx >= cols) {
    FLARE_CUDA_CHECK(cudaMemcpy2DAsync(y, size_t(ldy) * es, x, size_t(ldx) * es, size_t(cols) * es,
                                       size_t(rows), cudaMemcpyDeviceToDevice, stream_));
    counters::copies.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  dispatch_dtype(t, [&](auto z) {
    using T = decltype(z);
    copy_2d_kernel<T><<<blocks_for(rows * cols), kThreads, 0, stream_>>>(
        static_cast<T*>(y), ldy, static_cast<const T*>(x), ldx, rows, cols, accumulate);
    FLARE_CUDA_LAUNCHED(copy_2d_kernel);
  });
}

void CudaBackend::gather_rows(DType t, void* y, const void* table, const int32_t* idx, int64_t n,
                              int64_t row) {
  if (n <= 0 || row <= 0) return;
  activate();
  std::lock_guard<std::mutex> lock(idx_mu_);  // the index buffer is shared until the launch
  const int32_t* d_idx = upload_indices(idx, n);
  dispatch_dtype(t, [&](auto z) {
    using T = decltype(z);
    gather_kernel<T><<<blocks_for(n * row), kThreads, 0, stream_>>>(
        static_cast<T*>(y), static_cast<const T*>(table), d_idx, n, row);
    FLARE_CUDA_LAUNCHED(gather_kernel);
  });
}

void CudaBackend::scatter_add_rows(DType t, void* table, const void* x, const int32_t* idx,
                                   int64_t n, int64_t row) {
  if (n <= 0 || row <= 0) return;
  if (n > int64_t(INT32_MAX)) throw Error("cuda scatter_add_rows: more than 2^31 ids");
  activate();
  std::lock_guard<std::mutex> lock(idx_mu_);
  // Positions sorted by id (stably: each group keeps the given order), packed as
  // [offsets: groups + 1][rows: groups][positions: n] in one upload.
  std::vector<int32_t>& order = scatter_order_;
  order.resize(size_t(n));
  for (int64_t i = 0; i < n; ++i) order[size_t(i)] = int32_t(i);
  std::stable_sort(order.begin(), order.end(),
                   [idx](int32_t u, int32_t v) { return idx[u] < idx[v]; });
  std::vector<int32_t>& pack = scatter_pack_;
  pack.clear();
  std::vector<int32_t> group_rows;
  for (int64_t q = 0; q < n; ++q)
    if (q == 0 || idx[order[size_t(q)]] != idx[order[size_t(q - 1)]]) {
      pack.push_back(int32_t(q));
      group_rows.push_back(idx[order[size_t(q)]]);
    }
  const int64_t groups = int64_t(group_rows.size());
  pack.push_back(int32_t(n));
  pack.insert(pack.end(), group_rows.begin(), group_rows.end());
  pack.insert(pack.end(), order.begin(), order.end());
  const int32_t* d = static_cast<const int32_t*>(upload(pack.data(), pack.size() * sizeof(int32_t)));
  const int32_t *d_offsets = d, *d_rows = d + groups + 1, *d_pos = d + 2 * groups + 1;
  dispatch_dtype(t, [&](auto z) {
    using T = decltype(z);
    scatter_groups_kernel<T><<<blocks_for(groups * row), kThreads, 0, stream_>>>(
        static_cast<T*>(table), static_cast<const T*>(x), d_rows, d_offsets, d_pos, groups, row);
    FLARE_CUDA_LAUNCHED(scatter_groups_kernel);
  });
}

void CudaBackend::copy_segments(DType t, void* const* dst, const void* const* src, const int64_t* n,
                                int64_t count, bool accumulate) {
  if (count <= 0) return;
  const size_t es = dtype_size(t);
  // Segments run in parallel, so they must not overlap; where they do (an argument stacked
  // twice into one group), the calls one after another keep the order of additions.
  std::vector<std::pair<uintptr_t, uintptr_t>> spans;
  spans.reserve(size_t(count));
  for (int64_t i = 0; i < count; ++i)
    if (n[i] > 0) spans.emplace_back(uintptr_t(dst[i]), uintptr_t(dst[i]) + size_t(n[i]) * es);
  std::sort(spans.begin(), spans.end());
  bool overlap = false;
  for (size_t i = 1; i < spans.size() && !overlap; ++i) overlap = spans[i].first < spans[i - 1].second;
  if (count == 1 || overlap) {
    Backend::copy_segments(t, dst, src, n, count, accumulate);
    return;
  }
  activate();
  std::lock_guard<std::mutex> lock(idx_mu_);
  // [dst: count][src: count][offsets: count + 1] in one upload.
  std::vector<uint64_t>& pack = segment_pack_;
  pack.resize(size_t(3 * count + 1));
  uint64_t off = 0;
  for (int64_t i = 0; i < count; ++i) {
    pack[size_t(i)] = uint64_t(uintptr_t(dst[i]));
    pack[size_t(count + i)] = uint64_t(uintptr_t(src[i]));
    pack[size_t(2 * count + i)] = off;
    off += uint64_t(n[i] > 0 ? n[i] : 0);
  }
  pack[size_t(3 * count)] = off;
  const uint64_t* d = static_cast<const uint64_t*>(upload(pack.data(), pack.size() * sizeof(uint64_t)));
  const int blocks = int(std::min<int64_t>(count, 65535));
  dispatch_dtype(t, [&](auto z) {
    using T = decltype(z);
    copy_segments_kernel<T><<<blocks, 128, 0, stream_>>>(reinterpret_cast<T* const*>(d),
                                                        reinterpret_cast<const T* const*>(d + count),
                                                        reinterpret_cast<const int64_t*>(d + 2 * count), count,
                                                        accumulate);
    FLARE_CUDA_LAUNCHED(copy_segments_kernel);
  });
}

void CudaBackend::ger_batched(DType t, int64_t m, int64_t n, double alpha, const void* const* a,
                              const void* const* b, int64_t count, void* c, int64_t ldc) {
  if (m <= 0 || n <= 0 || count <= 0) return;
  activate();
  std::lock_guard<std::mutex> lock(idx_mu_);
  // Both pointer lists (host arrays of device pointers) in one upload: a's, then b's.
  ptr_scratch_.assign(a, a + count);
  ptr_scratch_.insert(ptr_scratch_.end(), b, b + count);
  const void* const* d_ptrs = static_cast<const void* const*>(
      upload(ptr_scratch_.data(), ptr_scratch_.size() * sizeof(const void*)));
  dispatch_dtype(t, [&](auto z) {
    using T = decltype(z);
    const T* const* pa = reinterpret_cast<const T* const*>(d_ptrs);
    ger_batched_kernel<T><<<blocks_for(m * n), kThreads, 0, stream_>>>(
        static_cast<T*>(c), ldc, m, n, T(alpha), pa, pa + count, count);
    FLARE_CUDA_LAUNCHED(ger_batched_kernel);
  });
}

void CudaBackend::scale_2d(DType t, void* c, int64_t ldc, int64_t rows, int64_t cols, double beta) {
  if (beta == 1.0 || rows <= 0 || cols <= 0) return;
  dispatch_dtype(t, [&](auto z) {
    using T = decltype(z);
    scale_2d_kernel<T><<<blocks_for(rows * cols), kThreads, 0, stream_>>>(static_cast<T*>(c), ldc,
                                                                         rows, cols, T(beta));
    FLARE_CUDA_LAUNCHED(scale_2d_kernel);
  });
}

}  // namespace flare::cuda
