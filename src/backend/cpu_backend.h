#pragma once
// The CPU implementation of the backend primitives: BLAS for GEMM, SLEEF for vectorised
// transcendental functions, plain loops (auto-vectorised at -O3) for the rest.
#include "flare/backend.h"

namespace flare {

class CpuBackend final : public Backend {
 public:
  Device device() const override { return Device::cpu(); }

  void* allocate(size_t bytes) override;
  void deallocate(void* p, size_t bytes) override;
  void to_host(void* host_dst, const void* src, size_t bytes) override;
  void from_host(void* dst, const void* host_src, size_t bytes) override;

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
  void ger_batched(DType t, int64_t m, int64_t n, double alpha, const void* const* a, const void* const* b,
                   int64_t count, void* c, int64_t ldc) override;
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
  bool pick_neg_log_softmax_grad(DType t, void* dx, const void* logp, const void* dy, const int32_t* pos,
                                 int64_t batch, int64_t classes) override;

  void lstm(LstmPart part, DType t, void* y, const void* a, const void* c0, const void* c1,
            LstmGates L, int64_t batch, int64_t h) override;
  void lstm_grad(LstmPart part, DType t, void* da, void* dc0, void* dc1, const void* a,
                 const void* c0, const void* c1, const void* dy, LstmGates L, int64_t batch,
                 int64_t h) override;

  void copy_2d(DType t, void* y, int64_t ldy, const void* x, int64_t ldx, int64_t rows,
               int64_t cols, bool accumulate) override;
  void gather_rows(DType t, void* y, const void* table, const int32_t* idx, int64_t n,
                   int64_t row) override;
  void scatter_add_rows(DType t, void* table, const void* x, const int32_t* idx, int64_t n,
                        int64_t row) override;
  void random(Dist d, DType t, void* y, int64_t n, double a, double b, uint64_t seed,
              uint64_t offset) override;
  void sgd_update(DType t, void* w, const void* g, void* buf, UpdateRange r, SgdStep s) override;
  void adagrad_update(DType t, void* w, const void* g, void* sum, UpdateRange r,
                      AdagradStep s) override;
  void adadelta_update(DType t, void* w, const void* g, void* sq, void* acc_delta, UpdateRange r,
                       AdadeltaStep s) override;
  void adam_update(DType t, void* w, const void* g, void* m, void* v, UpdateRange r,
                   AdamStep s) override;
  void adam_idle_steps(DType t, void* w, void* m, void* v, int64_t n, const AdamStep* steps,
                       int64_t k) override;
  double sum_squares(DType t, const void* x, UpdateRange r) override;
  void scale(DType t, void* x, UpdateRange r, double alpha) override;
  bool all_finite(DType t, const void* x, int64_t n) override;
};

}  // namespace flare
