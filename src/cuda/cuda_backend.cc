// The CUDA backend's set-up, memory and host <-> device copies, and its registration.
#include "cuda/cuda_backend.h"

#include <algorithm>
#include <cstring>
#include <string>

#include "cuda/check.h"
#include "flare/error.h"

namespace flare::cuda {
namespace {

// "/work/src/cuda/x.cc" -> "src/cuda/x.cc": messages name the file within the project.
const char* short_path(const char* file) {
  const char* s = std::strstr(file, "src/");
  return s ? s : file;
}

std::string device_name(int index) { return "cuda:" + std::to_string(index); }

}  // namespace

void throw_cuda(cudaError_t e, const char* what, const char* file, int line) {
  cudaGetLastError();  // clear a non-sticky error so the next call starts clean
  throw Error(std::string("CUDA error: ") + cudaGetErrorString(e) + " (" + cudaGetErrorName(e) +
              ") in " + what + " at " + short_path(file) + ":" + std::to_string(line));
}

void throw_cublas(cublasStatus_t s, const char* what, const char* file, int line) {
  throw Error(std::string("cuBLAS error: ") + cublasGetStatusString(s) + " (" +
              cublasGetStatusName(s) + ") in " + what + " at " + short_path(file) + ":" +
              std::to_string(line));
}

// ---- Pinned staging ----

void PinnedStaging::upload(void* dst, const void* src, size_t bytes, cudaStream_t stream) {
  std::lock_guard<std::mutex> lock(mu_);
  Slot& s = slots_[next_++ % kSlots];
  if (!s.done) FLARE_CUDA_CHECK(cudaEventCreateWithFlags(&s.done, cudaEventDisableTiming));
  // The copy that last read this buffer must have run before it is overwritten; with
  // kSlots buffers in rotation it nearly always has.
  if (s.pending && cudaEventQuery(s.done) != cudaSuccess) {
    counters::waits.fetch_add(1, std::memory_order_relaxed);
    FLARE_CUDA_CHECK(cudaEventSynchronize(s.done));
  }
  s.pending = false;
  if (s.capacity < bytes) {
    if (s.host) FLARE_CUDA_CHECK(cudaFreeHost(s.host));
    s.host = nullptr;
    s.capacity = 0;
    const size_t cap = std::max<size_t>(4096, std::min(kMaxBytes, bytes * 2));
    FLARE_CUDA_CHECK(cudaMallocHost(&s.host, cap));
    s.capacity = cap;
  }
  std::memcpy(s.host, src, bytes);
  FLARE_CUDA_CHECK(cudaMemcpyAsync(dst, s.host, bytes, cudaMemcpyHostToDevice, stream));
  counters::copies.fetch_add(1, std::memory_order_relaxed);
  FLARE_CUDA_CHECK(cudaEventRecord(s.done, stream));
  s.pending = true;
}

// ---- Set-up ----

CudaBackend::CudaBackend(int index) : index_(index), alloc_(index) {
  const std::string name = device_name(index);
  int count = 0;
  cudaError_t e = cudaGetDeviceCount(&count);
  if (e != cudaSuccess) {
    cudaGetLastError();
    throw Error(name + ": CUDA is not available: " + cudaGetErrorString(e) + " (" +
                cudaGetErrorName(e) + ")");
  }
  if (index < 0 || index >= count)
    throw Error(name + ": no such device (" + std::to_string(count) + " CUDA device" +
                (count == 1 ? "" : "s") + " present)");
  FLARE_CUDA_CHECK(cudaSetDevice(index));
  FLARE_CUDA_CHECK(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking));
  FLARE_CUBLAS_CHECK(cublasCreate(&blas_));
  FLARE_CUBLAS_CHECK(cublasSetStream(blas_, stream_));
  // Plain float32 products (no TF32): results match the CPU backend to float rounding.
  FLARE_CUBLAS_CHECK(cublasSetMathMode(blas_, CUBLAS_DEFAULT_MATH));
  FLARE_CUDA_CHECK(cudaMalloc(&result_dev_, 64));
  FLARE_CUDA_CHECK(cudaMallocHost(&result_host_, 64));
}

CudaBackend::~CudaBackend() {
  // Backends live until the process ends (the registry never deletes them); this runs only
  // for backends made directly, e.g. in tests. Errors are ignored: nothing can be done here.
  cudaSetDevice(index_);
  cudaStreamSynchronize(stream_);
  if (idx_dev_) alloc_.deallocate(idx_dev_);
  alloc_.release_cached();
  cudaFree(result_dev_);
  cudaFreeHost(result_host_);
  cublasDestroy(blas_);
  cudaStreamDestroy(stream_);
}

void CudaBackend::activate() const {
  int cur = -1;
  FLARE_CUDA_CHECK(cudaGetDevice(&cur));
  if (cur != index_) FLARE_CUDA_CHECK(cudaSetDevice(index_));
}

void CudaBackend::synchronize() {
  activate();
  FLARE_CUDA_CHECK(cudaStreamSynchronize(stream_));
  counters::waits.fetch_add(1, std::memory_order_relaxed);
}

// ---- Memory ----

void* CudaBackend::allocate(size_t bytes) {
  activate();
  return alloc_.allocate(bytes);
}

void CudaBackend::deallocate(void* p, size_t) { alloc_.deallocate(p); }

void CudaBackend::to_host(void* host_dst, const void* src, size_t bytes) {
  if (!bytes) return;
  activate();
  FLARE_CUDA_CHECK(cudaMemcpyAsync(host_dst, src, bytes, cudaMemcpyDeviceToHost, stream_));
  FLARE_CUDA_CHECK(cudaStreamSynchronize(stream_));
  counters::waits.fetch_add(1, std::memory_order_relaxed);
}

void CudaBackend::from_host(void* dst, const void* host_src, size_t bytes) {
  if (!bytes) return;
  activate();
  if (bytes <= PinnedStaging::kMaxBytes) {
    staging_.upload(dst, host_src, bytes, stream_);
    return;
  }
  // Large copies (parameters, datasets) are rare: copy directly and wait, so the caller may
  // free its memory on return whatever kind of memory it is.
  FLARE_CUDA_CHECK(cudaMemcpyAsync(dst, host_src, bytes, cudaMemcpyHostToDevice, stream_));
  FLARE_CUDA_CHECK(cudaStreamSynchronize(stream_));
  counters::waits.fetch_add(1, std::memory_order_relaxed);
}

void CudaBackend::copy(DType t, void* y, const void* x, int64_t n) {
  if (y == x || n <= 0) return;
  activate();
  const size_t bytes = size_t(n) * dtype_size(t);
  const char* xs = static_cast<const char*>(x);
  char* ys = static_cast<char*>(y);
  if (ys < xs + bytes && xs < ys + bytes) {
    // Overlapping ranges (memmove semantics, as on the CPU): go through a temporary block.
    void* tmp = alloc_.allocate(bytes);
    FLARE_CUDA_CHECK(cudaMemcpyAsync(tmp, x, bytes, cudaMemcpyDeviceToDevice, stream_));
    FLARE_CUDA_CHECK(cudaMemcpyAsync(y, tmp, bytes, cudaMemcpyDeviceToDevice, stream_));
    counters::copies.fetch_add(2, std::memory_order_relaxed);
    alloc_.deallocate(tmp);  // stream order keeps it intact until the copy has run
    return;
  }
  FLARE_CUDA_CHECK(cudaMemcpyAsync(y, x, bytes, cudaMemcpyDeviceToDevice, stream_));
  counters::copies.fetch_add(1, std::memory_order_relaxed);
}

const void* CudaBackend::upload(const void* host, size_t bytes) {
  if (bytes > idx_capacity_) {
    if (idx_dev_) alloc_.deallocate(idx_dev_);
    idx_dev_ = nullptr;
    idx_capacity_ = 0;
    const size_t cap = std::max<size_t>(bytes, 4096);
    idx_dev_ = alloc_.allocate(cap);
    idx_capacity_ = cap;
  }
  from_host(idx_dev_, host, bytes);
  return idx_dev_;
}

// ---- Registration ----

namespace {
Backend* make_backend(int index) { return new CudaBackend(index); }
const bool registered = (register_backend(Device::kCUDA, &make_backend), true);
}  // namespace

void link_backend() { (void)registered; }

MemoryStats memory_stats(int index) {
  return static_cast<CudaBackend&>(backend(Device::cuda(index))).allocator().stats();
}

QueueStats queue_stats() {
  QueueStats s;
  s.kernels = counters::kernels.load(std::memory_order_relaxed);
  s.copies = counters::copies.load(std::memory_order_relaxed);
  s.blas = counters::blas.load(std::memory_order_relaxed);
  s.waits = counters::waits.load(std::memory_order_relaxed);
  return s;
}

void empty_cache(int index) {
  auto& be = static_cast<CudaBackend&>(backend(Device::cuda(index)));
  be.activate();
  be.allocator().release_cached();
}

}  // namespace flare::cuda
