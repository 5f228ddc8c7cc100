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
  const size_t item = size_t(src_s.size()) * dtype_size(t);
  for (int64_t b = 0; b < src_s.batch(); ++b)
    be.axpy(t, dst, static_cast<const char*>(src) + b * item, src_s.size(), 1.0);
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
