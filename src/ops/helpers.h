#pragma once
// Small pieces shared by op families.
#include "ops/registry.h"

namespace flare::ops {

/// dst += src where src has batch B and dst has batch B or 1 (then summed over the batch).
inline void acc_batch_sum(Backend& be, DType t, void* dst, const Shape& dst_s, const void* src,
                          const Shape& src_s) {
  if (dst_s.batch() == src_s.batch()) {
    be.axpy(t, dst, src, src_s.total(), 1.0);
    return;
  }
  // A batch-1 destination takes the sum over the batch: the gradient of a sum with a broadcast
  // operand, which every backend computes in one call (the CPU adds the examples in order, as
  // one axpy per example did; on a GPU that was a launch per example, 1,408 per rnnlm update).
  // Add's gradient reads neither operand's value; both point into src, a (the argument whose
  // gradient is taken) with batch stride 0, the shape of the destination.
  Bcast bc;
  bc.batch = src_s.batch(), bc.n = src_s.size();
  bc.a_bs = 0, bc.a_es = 1;
  bc.b_bs = bc.n, bc.b_es = 1;
  be.binary_grad(Binary::Add, 0, t, dst, src, src, nullptr, src, bc);
}

/// Scratch memory for the node being run, valid until the graph is cleared.
inline void* scratch(const Ctx& c, int64_t elements) {
  return c.g->alloc(size_t(elements) * dtype_size(c.t()));
}

/// Bytes of element i of a type.
inline const char* offset(const void* p, int64_t elements, DType t) {
  return static_cast<const char*>(p) + elements * int64_t(dtype_size(t));
}
inline char* offset(void* p, int64_t elements, DType t) {
  return static_cast<char*>(p) + elements * int64_t(dtype_size(t));
}

}  // namespace flare::ops
