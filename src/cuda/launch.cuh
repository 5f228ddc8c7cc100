#pragma once
// Launch geometry and block-level reductions shared by the kernel files (CUDA only).
#include <cstdint>

#include "cuda/check.h"

namespace flare::cuda {

constexpr int kThreads = 256;
// Grid-stride loops cover any size; more blocks than this only adds scheduling work.
constexpr int64_t kMaxBlocks = 4096;

inline int blocks_for(int64_t n, int threads = kThreads) {
  int64_t b = (n + threads - 1) / threads;
  return int(b < 1 ? 1 : (b > kMaxBlocks ? kMaxBlocks : b));
}

#define FLARE_GRID_LOOP(i, n)                                                       \
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < (n);          \
       i += int64_t(blockDim.x) * gridDim.x)

struct SumOp {
  template <typename T> __device__ T operator()(T a, T b) const { return a + b; }
};
struct MaxOp {
  template <typename T> __device__ T operator()(T a, T b) const { return b > a ? b : a; }
};
struct MinOp {
  template <typename T> __device__ T operator()(T a, T b) const { return b < a ? b : a; }
};

template <typename T, typename Op>
__device__ __forceinline__ T warp_all_reduce(T v, Op op) {
  for (int o = 16; o > 0; o >>= 1) v = op(v, __shfl_xor_sync(0xffffffffu, v, o));
  return v;
}

/// Reduces one value per thread over the block and returns the result to every thread.
/// blockDim.x must be a multiple of 32 and every thread of the block must call it.
template <typename T, typename Op>
__device__ T block_all_reduce(T v, Op op) {
  __shared__ T part[32];
  v = warp_all_reduce(v, op);
  const int warps = blockDim.x >> 5;
  if (warps == 1) return v;
  __syncthreads();  // an earlier call's readers are done with `part`
  if ((threadIdx.x & 31) == 0) part[threadIdx.x >> 5] = v;
  __syncthreads();
  T r = part[0];
  for (int w = 1; w < warps; ++w) r = op(r, part[w]);
  return r;
}

}  // namespace flare::cuda
