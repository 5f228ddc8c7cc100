// The portable copy_segments: the copy or axpy calls it stands for, one after another.
#include "flare/backend.h"

namespace flare {

void Backend::copy_segments(DType t, void* const* dst, const void* const* src, const int64_t* n,
                            int64_t count, bool accumulate) {
  for (int64_t i = 0; i < count; ++i) {
    if (accumulate)
      axpy(t, dst[i], src[i], n[i], 1.0);
    else
      copy(t, dst[i], src[i], n[i]);
  }
}

}  // namespace flare
