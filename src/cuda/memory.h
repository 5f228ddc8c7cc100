#pragma once
// The CUDA backend's allocator internals shared with its tests; what it reports to users is
// flare/cuda_stats.h.
#include <cstddef>

#include "flare/cuda_stats.h"

namespace flare::cuda {

/// The size class a request of `bytes` is rounded up to.
size_t size_class(size_t bytes);

}  // namespace flare::cuda
