// Which backend serves which device. The CPU backend always exists; other kinds register a
// factory at start-up (the CUDA backend does so when it is built in).
#include <memory>
#include <mutex>
#include <vector>

#include "backend/cpu_backend.h"
#include "flare/cuda_stats.h"
#include "flare/error.h"

namespace flare {
#ifdef FLARE_WITH_CUDA
namespace cuda {
void link_backend();  // src/cuda/cuda_backend.cc, whose static initializer registers the backend
}
#endif

namespace {

struct Registry {
  std::mutex mu;
  Backend* (*cuda_factory)(int) = nullptr;
  std::vector<Backend*> cuda;  // one per device index, created on first use
};

Registry& registry() {
  static Registry r;
  return r;
}

}  // namespace

Backend& backend(Device d) {
  if (d.is_cpu()) {
    static CpuBackend cpu;
    return cpu;
  }
#ifdef FLARE_WITH_CUDA
  cuda::link_backend();  // the reference keeps that object in a static link
#endif
  Registry& r = registry();
  std::lock_guard<std::mutex> lock(r.mu);
  if (!r.cuda_factory)
    throw Error("device " + d.str() + ": flare was built without CUDA (configure with -DFLARE_CUDA=ON)");
  if (d.index < 0) throw Error("device " + d.str() + ": negative index");
  if (size_t(d.index) >= r.cuda.size()) r.cuda.resize(size_t(d.index) + 1, nullptr);
  if (!r.cuda[size_t(d.index)]) r.cuda[size_t(d.index)] = r.cuda_factory(d.index);
  return *r.cuda[size_t(d.index)];
}

void register_backend(Device::Kind kind, Backend* (*factory)(int)) {
  if (kind == Device::kCUDA) {
    std::lock_guard<std::mutex> lock(registry().mu);
    registry().cuda_factory = factory;
  }
}

#ifndef FLARE_WITH_CUDA
// flare/cuda_stats.h without the CUDA backend: nothing was queued, and asking about a device's
// memory fails as using the device would (backend() names the device and the build option).
namespace cuda {
QueueStats queue_stats() { return {}; }
MemoryStats memory_stats(int index) {
  backend(Device::cuda(index));
  return {};
}
void empty_cache(int index) { backend(Device::cuda(index)); }
}  // namespace cuda
#endif

bool device_available(Device d) {
  if (d.is_cpu()) return true;
  try {
    backend(d);
    return true;
  } catch (const Error&) {
    return false;
  }
}

}  // namespace flare
