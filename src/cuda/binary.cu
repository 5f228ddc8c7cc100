// Element-wise kernels of two arguments with broadcasting (Bcast), and their gradients.
// A gradient whose argument is broadcast (a stride of 0) sums over the positions sharing one
// element: by columns, by rows or over everything. Where several blocks share a target they
// write partial sums that a second kernel adds in a fixed order: no atomics, so results are
// the same on every run (the static engine's bit-identity with eager relies on that).
#include "backend/functors.h"
#include "cuda/cuda_backend.h"
#include "cuda/launch.cuh"

namespace flare::cuda {
namespace {

template <Binary F, typename T>
__global__ void binary_kernel(T* y, const T* a, const T* b, Bcast bc) {
  FLARE_GRID_LOOP(k, bc.batch * bc.n) {
    const int64_t i = k / bc.n, j = k - i * bc.n;
    y[k] = fn::binary<F>(a[i * bc.a_bs + j * bc.a_es], b[i * bc.b_bs + j * bc.b_es]);
  }
}

// dy * d f(a, b) / d arg at example i, element j (y may be null when f' does not read it).
template <Binary F, int Arg, typename T>
__device__ __forceinline__ T grad_at(const T* a, const T* b, const T* y, const T* dy,
                                     const Bcast& bc, int64_t i, int64_t j) {
  const int64_t k = i * bc.n + j;
  return fn::binary_grad<F, Arg>(a[i * bc.a_bs + j * bc.a_es], b[i * bc.b_bs + j * bc.b_es],
                                 y ? y[k] : T(0), dy[k]);
}

// Every position has its own element of d (no broadcasting of this argument).
template <Binary F, int Arg, typename T>
__global__ void grad_each(T* d, int64_t d_bs, int64_t d_es, const T* a, const T* b, const T* y,
                          const T* dy, Bcast bc) {
  FLARE_GRID_LOOP(k, bc.batch * bc.n) {
    const int64_t i = k / bc.n, j = k - i * bc.n;
    d[i * d_bs + j * d_es] += grad_at<F, Arg>(a, b, y, dy, bc, i, j);
  }
}

// d is shared across the batch (d_bs == 0): d[j*d_es] += sum over i. Thread per column j and
// chunk of `rows` examples. One chunk adds to d; several write part[j * chunks + chunk].
template <Binary F, int Arg, typename T>
__global__ void grad_columns(T* d, int64_t d_es, T* part, const T* a, const T* b, const T* y,
                             const T* dy, Bcast bc, int64_t rows) {
  const int64_t j = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (j >= bc.n) return;
  const int64_t i0 = int64_t(blockIdx.y) * rows;
  const int64_t i1 = i0 + rows < bc.batch ? i0 + rows : bc.batch;
  T s = 0;
  for (int64_t i = i0; i < i1; ++i) s += grad_at<F, Arg>(a, b, y, dy, bc, i, j);
  if (part) part[j * gridDim.y + blockIdx.y] = s;
  else d[j * d_es] += s;
}

// d has one element per example (d_es == 0): d[i*d_bs] += sum over j. One warp per example
// and segment of `seg` elements. One segment adds to d; several write part[i * segs + s].
template <Binary F, int Arg, typename T>
__global__ void grad_rows(T* d, int64_t d_bs, T* part, const T* a, const T* b, const T* y,
                          const T* dy, Bcast bc, int64_t seg, int64_t segs) {
  const int64_t warps = (int64_t(gridDim.x) * blockDim.x) >> 5;
  const int lane = threadIdx.x & 31;
  for (int64_t w = (int64_t(blockIdx.x) * blockDim.x + threadIdx.x) >> 5; w < bc.batch * segs;
       w += warps) {
    const int64_t i = w / segs, j0 = (w - i * segs) * seg;
    const int64_t j1 = j0 + seg < bc.n ? j0 + seg : bc.n;
    T s = 0;
    for (int64_t j = j0 + lane; j < j1; j += 32) s += grad_at<F, Arg>(a, b, y, dy, bc, i, j);
    s = warp_all_reduce(s, SumOp());
    if (lane == 0) {
      if (part) part[w] = s;
      else d[i * d_bs] += s;
    }
  }
}

// d is one element shared by everything: each block writes its partial sum part[blockIdx.x].
template <Binary F, int Arg, typename T>
__global__ void grad_all(T* part, const T* a, const T* b, const T* y, const T* dy, Bcast bc) {
  T s = 0;
  FLARE_GRID_LOOP(k, bc.batch * bc.n) {
    const int64_t i = k / bc.n;
    s += grad_at<F, Arg>(a, b, y, dy, bc, i, k - i * bc.n);
  }
  s = block_all_reduce(s, SumOp());
  if (threadIdx.x == 0) part[blockIdx.x] = s;
}

// d[g * d_stride] += sum of part[g * per .. g * per + per), in order: thread per target.
template <typename T>
__global__ void add_partials(T* d, int64_t d_stride, const T* part, int64_t groups, int64_t per) {
  FLARE_GRID_LOOP(g, groups) {
    T s = 0;
    for (int64_t k = 0; k < per; ++k) s += part[g * per + k];
    d[g * d_stride] += s;
  }
}

// d[0] += sum of part[0 .. count): one block, a fixed reduction order.
template <typename T>
__global__ void add_partials_block(T* d, const T* part, int64_t count) {
  T s = 0;
  for (int64_t k = threadIdx.x; k < count; k += blockDim.x) s += part[k];
  s = block_all_reduce(s, SumOp());
  if (threadIdx.x == 0) d[0] += s;
}

// Scratch for partial sums, returned to the cache when the kernels are queued (stream order
// keeps it intact until they have run).
template <typename T>
struct Partials {
  CachingAllocator& alloc;
  T* p;
  Partials(CachingAllocator& a, int64_t n) : alloc(a), p(static_cast<T*>(a.allocate(size_t(n) * sizeof(T)))) {}
  ~Partials() { alloc.deallocate(p); }
  Partials(const Partials&) = delete;
  Partials& operator=(const Partials&) = delete;
};

template <Binary F, int Arg, typename T>
void launch_grad(cudaStream_t st, CachingAllocator& alloc, T* d, const T* a, const T* b,
                 const T* y, const T* dy, const Bcast& bc) {
  const int64_t d_bs = Arg == 0 ? bc.a_bs : bc.b_bs, d_es = Arg == 0 ? bc.a_es : bc.b_es;
  const bool rows_distinct = bc.batch == 1 || d_bs != 0;
  const bool cols_distinct = bc.n == 1 || d_es != 0;
  const int64_t total = bc.batch * bc.n;
  if (rows_distinct && cols_distinct) {
    grad_each<F, Arg><<<blocks_for(total), kThreads, 0, st>>>(d, d_bs, d_es, a, b, y, dy, bc);
  } else if (cols_distinct) {
    // Enough chunks of examples to fill the GPU when there are few columns.
    const int64_t col_blocks = (bc.n + kThreads - 1) / kThreads;
    int64_t chunks = (int64_t(1) << 16) / (col_blocks * kThreads);
    chunks = chunks < 1 ? 1 : (chunks > bc.batch / 16 ? bc.batch / 16 : chunks);
    chunks = chunks < 1 ? 1 : (chunks > 65535 ? 65535 : chunks);
    const int64_t rows = (bc.batch + chunks - 1) / chunks;
    chunks = (bc.batch + rows - 1) / rows;
    const dim3 grid{unsigned(col_blocks), unsigned(chunks), 1u};
    if (chunks == 1) {
      grad_columns<F, Arg><<<grid, kThreads, 0, st>>>(d, d_es, static_cast<T*>(nullptr), a, b, y,
                                                      dy, bc, rows);
    } else {
      Partials<T> part(alloc, bc.n * chunks);
      grad_columns<F, Arg><<<grid, kThreads, 0, st>>>(d, d_es, part.p, a, b, y, dy, bc, rows);
      add_partials<T><<<blocks_for(bc.n), kThreads, 0, st>>>(d, d_es, part.p, bc.n, chunks);
    }
  } else if (rows_distinct) {
    const int64_t seg = 32 * 64;
    const int64_t segs = (bc.n + seg - 1) / seg;
    const int blocks = blocks_for(bc.batch * segs * 32);
    if (segs == 1) {
      grad_rows<F, Arg><<<blocks, kThreads, 0, st>>>(d, d_bs, static_cast<T*>(nullptr), a, b, y,
                                                     dy, bc, seg, segs);
    } else {
      Partials<T> part(alloc, bc.batch * segs);
      grad_rows<F, Arg><<<blocks, kThreads, 0, st>>>(d, d_bs, part.p, a, b, y, dy, bc, seg, segs);
      add_partials<T><<<blocks_for(bc.batch), kThreads, 0, st>>>(d, d_bs, part.p, bc.batch, segs);
    }
  } else {
    const int blocks = blocks_for(total);
    Partials<T> part(alloc, blocks);
    grad_all<F, Arg><<<blocks, kThreads, 0, st>>>(part.p, a, b, y, dy, bc);
    add_partials_block<T><<<1, kThreads, 0, st>>>(d, part.p, blocks);
  }
  FLARE_CUDA_LAUNCHED(binary_grad);
}

}  // namespace

void CudaBackend::binary(Binary f, DType t, void* y, const void* a, const void* b,
                         const Bcast& bc) {
  if (bc.batch <= 0 || bc.n <= 0) return;
  activate();
  dispatch_dtype(t, [&](auto z) {
    using T = decltype(z);
    T* py = static_cast<T*>(y);
    const T* pa = static_cast<const T*>(a);
    const T* pb = static_cast<const T*>(b);
    const int blocks = blocks_for(bc.batch * bc.n);
    switch (f) {
#define FLARE_CASE(F)                                                                    \
  case Binary::F: binary_kernel<Binary::F, T><<<blocks, kThreads, 0, stream_>>>(py, pa, pb, bc); break;
      FLARE_FOR_EACH_BINARY(FLARE_CASE)
#undef FLARE_CASE
      default: throw Error("cuda binary: unknown function " + std::to_string(int(f)));
    }
    FLARE_CUDA_LAUNCHED(binary_kernel);
  });
}

void CudaBackend::binary_grad(Binary f, int arg, DType t, void* dx, const void* a, const void* b,
                              const void* y, const void* dy, const Bcast& bc) {
  if (bc.batch <= 0 || bc.n <= 0) return;
  if (arg != 0 && arg != 1) throw Error("cuda binary_grad: arg must be 0 or 1, got " + std::to_string(arg));
  activate();
  dispatch_dtype(t, [&](auto z) {
    using T = decltype(z);
    T* d = static_cast<T*>(dx);
    const T* pa = static_cast<const T*>(a);
    const T* pb = static_cast<const T*>(b);
    const T* py = static_cast<const T*>(y);
    const T* pdy = static_cast<const T*>(dy);
    switch (f) {
#define FLARE_CASE(F)                                                          \
  case Binary::F:                                                              \
    if (arg == 0) launch_grad<Binary::F, 0>(stream_, alloc_, d, pa, pb, py, pdy, bc);  \
    else launch_grad<Binary::F, 1>(stream_, alloc_, d, pa, pb, py, pdy, bc);           \
    break;
      FLARE_FOR_EACH_BINARY(FLARE_CASE)
#undef FLARE_CASE
      default: throw Error("cuda binary_grad: unknown function " + std::to_string(int(f)));
    }
  });
}

}  // namespace flare::cuda
