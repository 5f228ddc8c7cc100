#pragma once
// The CUDA implementation of the backend primitives: one stream per device, a caching
// allocator, cuBLAS for matrix products, and kernels instantiated from the shared functors
// (backend/functors.h), so element-wise math is defined once for the CPU and the GPU.
// Member functions are defined by concern: cuda_backend.cc (setup, memory, copies),
// gemm.cc (cuBLAS), elementwise.cu, binary.cu, reduce.cu, data.cu and optim.cu (kernels).
#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <mutex>
#include <vector>

#include "cuda/allocator.h"
#include "flare/backend.h"

namespace flare::cuda {

/// Host-to-device copies through a ring of pinned buffers: the copy is queued on the stream
/// and the caller's memory may be reused at once. A buffer is written again only after the
/// copy that last read it has run (an event per buffer), so the host runs at most kSlots
/// uploads ahead of the GPU.
class PinnedStaging {
 public:
  static constexpr size_t kMaxBytes = size_t(1) << 20;  // larger copies bypass the ring
  static constexpr unsigned kSlots = 32;
  PinnedStaging() = default;
  PinnedStaging(const PinnedStaging&) = delete;
  PinnedStaging& operator=(const PinnedStaging&) = delete;
  void upload(void* dst, const void* src, size_t bytes, cudaStream_t stream);

 private:
  struct Slot {
    void* host = nullptr;
    size_t capacity = 0;
    cudaEvent_t done = nullptr;
    bool pending = false;
  };
  std::mutex mu_;
  Slot slots_[kSlots];
  unsigned next_ = 0;
};

class CudaBackend final : public Backend {
 public:
  /// Throws flare::Error with CUDA's message when there is no driver, no device or no such index.
  explicit CudaBackend(int index);
  ~CudaBackend() override;

  Device device() const override { return Device::cuda(index_); }

  void* allocate(size_t bytes) override;
  void deallocate(void* p, size_t bytes) override;
  void to_host(void* host_dst, const void* src, size_t bytes) override;
  void from_host(void* dst, const void* host_src, size_t bytes) override;
  void synchronize() override;

  void fill(DType t, void* y, int64_t n, double value) override;
  void copy(DType t, void* y, const void* x, int64_t n) override;
  void axpy(DType t, void* y, const void* x, int64_t n, double alpha) override;
  void unary(Unary f, DType t, void* y, const void* x, int64_t n, double alpha) override;
  void unary_grad(Unary f, DType t, void* dx, const void* x, const void* y, const void* dy,
                  int64_t n, double alpha) override;
  void binary(Binary f, DType t, void* y, const void* a, const void* b, const Bcast& bc) override;
  void binary_grad(Binary f, int arg, DType t, void* dx, const void* a, const void* b,
                   const void* y, const void* dy, const Bcast& bc) override;

  void gemm(DType t, bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, double alpha,
            const void* a, int64_t lda, const void* b, int64_t ldb, double beta, void* c,
            int64_t ldc) override;
  void gemm_batched(DType t, bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k,
                    double alpha, const void* a, int64_t lda, int64_t stride_a, const void* b,
                    int64_t ldb, int64_t stride_b, double beta, void* c, int64_t ldc,
                    int64_t stride_c, int64_t count) override;
  void ger_batched(DType t, int64_t m, int64_t n, double alpha, const void* const* a,
                   const void* const* b, int64_t count, void* c, int64_t ldc) override;
  void transpose(DType t, void* y, const void* x, int64_t rows, int64_t cols, int64_t count,
                 bool accumulate) override;

  void reduce(Reduce f, DType t, void* y, const void* x, int64_t outer, int64_t mid,
              int64_t inner) override;
  void reduce_grad(Reduce f, DType t, void* dx, const void* x, const void* y, const void* dy,
                   int64_t outer, int64_t mid, int64_t inner, double alpha) override;
  void softmax(DType t, void* y, const void* x, int64_t outer, int64_t mid, int64_t inner,
               bool log) override;
  void softmax_grad(DType t, void* dx, const void* y, const void* dy, int64_t outer, int64_t mid,
                    int64_t inner, bool log) override;

  // The LSTM cell's element-wise step (lstm.cu).
  void lstm(LstmPart part, DType t, void* y, const void* a, const void* c0, const void* c1,
            LstmGates L, int64_t batch, int64_t h) override;
  void lstm_grad(LstmPart part, DType t, void* da, void* dc0, void* dc1, const void* a,
                 const void* c0, const void* c1, const void* dy, LstmGates L, int64_t batch,
                 int64_t h) override;

  void copy_2d(DType t, void* y, int64_t ldy, const void* x, int64_t ldx, int64_t rows,
               int64_t cols, bool accumulate) override;
  void copy_segments(DType t, void* const* dst, const void* const* src, const int64_t* n,
                     int64_t count, bool accumulate) override;
  void gather_rows(DType t, void* y, const void* table, const int32_t* idx, int64_t n,
                   int64_t row) override;
  void scatter_add_rows(DType t, void* table, const void* x, const int32_t* idx, int64_t n,
                        int64_t row) override;
  void random(Dist d, DType t, void* y, int64_t n, double a, double b, uint64_t seed,
              uint64_t offset) override;
  bool all_finite(DType t, const void* x, int64_t n) override;

  // Fused optimizer steps (optim.cu).
  void sgd_update(DType t, void* w, const void* g, void* buf, UpdateRange r, SgdStep s) override;
  void adagrad_update(DType t, void* w, const void* g, void* sum, UpdateRange r,
                      AdagradStep s) override;
  void adadelta_update(DType t, void* w, const void* g, void* sq, void* acc_delta, UpdateRange r,
                       AdadeltaStep s) override;
  void adam_update(DType t, void* w, const void* g, void* m, void* v, UpdateRange r,
                   AdamStep s) override;
  double sum_squares(DType t, const void* x, UpdateRange r) override;
  void scale(DType t, void* x, UpdateRange r, double alpha) override;

  int index() const { return index_; }
  cudaStream_t stream() const { return stream_; }
  CachingAllocator& allocator() { return alloc_; }
  /// Makes this backend's device current on the calling thread (every primitive does this).
  void activate() const;

 private:
  /// A device copy of host memory (an index list, a pointer list) in a buffer shared by every
  /// upload: valid for work queued next on the stream. Hold idx_mu_ from the upload until the
  /// kernel that reads it is queued.
  const void* upload(const void* host, size_t bytes);
  const int32_t* upload_indices(const int32_t* idx, int64_t n) {
    return static_cast<const int32_t*>(upload(idx, size_t(n) * sizeof(int32_t)));
  }
  /// c[r*ldc + j] = beta * c[r*ldc + j] (a product with k == 0); defined in data.cu.
  void scale_2d(DType t, void* c, int64_t ldc, int64_t rows, int64_t cols, double beta);

  int index_;
  cudaStream_t stream_ = nullptr;
  cublasHandle_t blas_ = nullptr;
  CachingAllocator alloc_;
  PinnedStaging staging_;
  std::mutex idx_mu_;  // guards the upload buffer (one upload-and-launch at a time)
  void* idx_dev_ = nullptr;
  size_t idx_capacity_ = 0;
  // Host scratch of the uploads, kept between calls (under idx_mu_): ger_batched's pointer
  // lists, scatter_add_rows's grouping of ids, copy_segments's lists.
  std::vector<const void*> ptr_scratch_;
  std::vector<int32_t> scatter_order_, scatter_pack_;
  std::vector<uint64_t> segment_pack_;  // copy_segments: destinations, sources, offsets
  // Small results read back by the host (all_finite's flag, sum_squares's total): a device
  // word and its pinned host copy, one user at a time.
  std::mutex result_mu_;
  void* result_dev_ = nullptr;
  void* result_host_ = nullptr;
};

/// Keeps cuda_backend.cc (whose static initializer registers the backend) in a static link;
/// registry.cc calls it.
void link_backend();

}  // namespace flare::cuda
