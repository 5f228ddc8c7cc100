// The portable ger_batched: the rank-1 gemm calls it stands for, one after another.
#include "flare/backend.h"

namespace flare {

void Backend::ger_batched(DType t, int64_t m, int64_t n, double alpha, const void* const* a,
                          const void* const* b, int64_t count, void* c, int64_t ldc) {
  for (int64_t i = 0; i < count; ++i) gemm(t, false, true, m, n, 1, alpha, a[i], 1, b[i], 1, 1.0, c, ldc);
}

}  // namespace flare
