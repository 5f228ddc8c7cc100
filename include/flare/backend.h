#pragma once
/// The primitive interface every device implements (CPU now, CUDA too). Ops are written
/// against these ~25 kernels only, so a new device implements the primitives, never the ops.
///
/// Conventions: pointers are device pointers of the backend's device, except arrays documented
/// as host arrays (index lists). Kernels named *_grad or taking `accumulate` add into their
/// output (gradients always accumulate, because one value can feed many nodes). Matrices are
/// row-major. Nothing here knows about graphs, nodes or shapes.
#include <cstddef>
#include <cstdint>

#include "flare/device.h"
#include "flare/dtype.h"

namespace flare {

/// Element-wise functions of one argument. `alpha` parameterises Scale (alpha*x),
/// AddScalar (x+alpha), Elu (alpha) and Pow-like ops.
enum class Unary : uint8_t {
  Copy, Neg, Scale, AddScalar, Tanh, Sigmoid, Relu, Elu, Softplus, Exp, Log, Sqrt, Square, Abs,
  LogSigmoid, Count
};
/// Element-wise functions of two arguments.
enum class Binary : uint8_t { Add, Sub, Mul, Div, Max, Min, Count };
/// Reductions over the middle axis of an [outer, mid, inner] view.
enum class Reduce : uint8_t { Sum, Max, Min, LogSumExp, Count };
/// Distributions for `random`: Uniform in [a, b); Normal with mean a, stddev b;
/// Bernoulli: b with probability a, else 0 (an inverted-dropout mask).
enum class Dist : uint8_t { Uniform, Normal, Bernoulli };
/// The two halves of an LSTM cell's element-wise step (see Backend::lstm).
enum class LstmPart : uint8_t { State, Output };
/// Where an LSTM-like cell's gate blocks lie in each example's pre-activations (block indices,
/// blocks of the hidden size), and the forget gate of each previous state (-1: none). The
/// default is the LSTM's [i f g o]; a binary Tree-LSTM has five blocks, a forget gate per child.
struct LstmGates {
  int32_t blocks = 4, i = 0, g = 2, o = 3;
  int32_t f[2] = {1, -1};
};

/// Element-wise broadcasting for binary kernels: for example i < batch and element j < n,
/// a's element is a[i*a_bs + j*a_es] (a stride of 0 broadcasts), likewise b; y is dense.
struct Bcast {
  int64_t batch = 1, n = 0;
  int64_t a_bs = 0, a_es = 1;
  int64_t b_bs = 0, b_es = 1;
};

/// The elements a fused optimizer kernel visits. Dense: all `n` elements. Rows: the rows
/// rows[0..n_rows) (a host array, each row at most once) of a row-major table whose rows hold
/// `n` elements each; used for the touched rows of a sparse embedding table.
/// A dense range may carry a hint, `grad_rows`: a host mask over rows of `row` elements, where a
/// 0 row's gradient is known to be zero (Parameter::row_gradients). A kernel may skip reading
/// (and clearing) those gradient rows; one that ignores the hint is still right.
struct UpdateRange {
  int64_t n = 0;
  const int32_t* rows = nullptr;
  int64_t n_rows = 0;
  const uint8_t* grad_rows = nullptr;
  int64_t row = 0;

  static UpdateRange dense(int64_t n) { return {n, nullptr, 0, nullptr, 0}; }
  static UpdateRange dense_with_grad_rows(int64_t n, const uint8_t* mask, int64_t row) {
    return {n, nullptr, 0, mask, row};
  }
  static UpdateRange of_rows(const int32_t* rows, int64_t n_rows, int64_t row) {
    return {row, rows, n_rows, nullptr, 0};
  }
  bool sparse() const { return rows != nullptr; }
};

// Hyper-parameters of one fused optimizer step, plain scalars so every device can take them by
// value as kernel arguments. zero_grad asks the kernel to also clear the gradient elements it
// reads, in the same pass (the CPU backend does; flare::optim asks no other backend). In every kernel g' = g + weight_decay * w (L2 decay added to the
// gradient), except AdamW, which decays w itself. Formulas per element (w: value, g: grad):

/// SGD: b = first ? g' : momentum*b + (1-dampening)*g' (only when momentum != 0);
/// d = momentum == 0 ? g' : nesterov ? g' + momentum*b : b;  w -= lr*d.
struct SgdStep {
  double lr = 0, momentum = 0, dampening = 0, weight_decay = 0;
  bool nesterov = false;
  bool first = false;  // the buffer holds nothing yet: b = g'
  bool zero_grad = false;
};
/// Adagrad: s += g'^2;  w -= lr * g' / (sqrt(s) + eps). (lr already includes lr decay.)
struct AdagradStep {
  double lr = 0, eps = 0, weight_decay = 0;
  bool zero_grad = false;
};
/// Adadelta: s = rho*s + (1-rho)*g'^2;  d = sqrt(u + eps) / sqrt(s + eps) * g';
/// u = rho*u + (1-rho)*d^2;  w -= lr*d.
struct AdadeltaStep {
  double lr = 0, rho = 0, eps = 0, weight_decay = 0;
  bool zero_grad = false;
};
/// Adam: (decoupled: w *= 1 - lr*weight_decay, and g' = g)  m = b1*m + (1-b1)*g';
/// v = b2*v + (1-b2)*g'^2;  w -= lr/bias1 * m / (sqrt(v)/sqrt(bias2) + eps), where
/// bias1 = 1 - b1^t and bias2 = 1 - b2^t for step t (computed by the caller).
struct AdamStep {
  double lr = 0, beta1 = 0, beta2 = 0, eps = 0, weight_decay = 0;
  double bias1 = 1, bias2 = 1;
  bool decoupled = false;  // AdamW
  bool zero_grad = false;
};

class Backend {
 public:
  virtual ~Backend() = default;
  virtual Device device() const = 0;

  // Memory.
  virtual void* allocate(size_t bytes) = 0;
  virtual void deallocate(void* p, size_t bytes) = 0;
  virtual void to_host(void* host_dst, const void* src, size_t bytes) = 0;
  virtual void from_host(void* dst, const void* host_src, size_t bytes) = 0;
  virtual void synchronize() {}

  // Element-wise.
  virtual void fill(DType t, void* y, int64_t n, double value) = 0;
  virtual void copy(DType t, void* y, const void* x, int64_t n) = 0;
  /// y += alpha * x
  virtual void axpy(DType t, void* y, const void* x, int64_t n, double alpha) = 0;
  /// y = f(x)
  virtual void unary(Unary f, DType t, void* y, const void* x, int64_t n, double alpha) = 0;
  /// dx += f'(x) * dy, where f' may read x or y = f(x).
  virtual void unary_grad(Unary f, DType t, void* dx, const void* x, const void* y, const void* dy,
                          int64_t n, double alpha) = 0;
  /// y = f(a, b) with broadcasting.
  virtual void binary(Binary f, DType t, void* y, const void* a, const void* b, const Bcast& bc) = 0;
  /// d(arg) += dy * df/d(arg), summed over broadcast positions; arg is 0 for a, 1 for b.
  virtual void binary_grad(Binary f, int arg, DType t, void* dx, const void* a, const void* b,
                           const void* y, const void* dy, const Bcast& bc) = 0;

  // Linear algebra (row-major). C = alpha * op(A) * op(B) + beta * C.
  virtual void gemm(DType t, bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k,
                    double alpha, const void* a, int64_t lda, const void* b, int64_t ldb,
                    double beta, void* c, int64_t ldc) = 0;
  /// `count` independent gemms; element strides between them (0 shares an operand).
  virtual void gemm_batched(DType t, bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k,
                            double alpha, const void* a, int64_t lda, int64_t stride_a,
                            const void* b, int64_t ldb, int64_t stride_b, double beta, void* c,
                            int64_t ldc, int64_t stride_c, int64_t count) = 0;
  /// c[m,n] (rows of stride ldc) += alpha * sum over t of a[t] b[t]^T, with a[t] m and b[t] n
  /// contiguous elements: the same values as `count` successive rank-1 gemm calls
  /// (gemm(t, false, true, m, n, 1, alpha, a[t], 1, b[t], 1, 1.0, c, ldc)), terms applied in
  /// order, but in one pass over c where the backend can. The default makes those calls.
  virtual void ger_batched(DType t, int64_t m, int64_t n, double alpha, const void* const* a,
                           const void* const* b, int64_t count, void* c, int64_t ldc);
  /// y[c][j][i] (+)= x[c][i][j] for `count` rows x cols matrices.
  virtual void transpose(DType t, void* y, const void* x, int64_t rows, int64_t cols,
                         int64_t count, bool accumulate) = 0;

  // Reductions over the middle axis of x viewed as [outer, mid, inner]; y is [outer, inner].
  virtual void reduce(Reduce f, DType t, void* y, const void* x, int64_t outer, int64_t mid,
                      int64_t inner) = 0;
  /// dx += alpha * dy * dy/dx (Max/Min route to the first extremal position).
  virtual void reduce_grad(Reduce f, DType t, void* dx, const void* x, const void* y,
                           const void* dy, int64_t outer, int64_t mid, int64_t inner,
                           double alpha) = 0;
  /// Softmax (or log-softmax) over the middle axis, numerically stable.
  virtual void softmax(DType t, void* y, const void* x, int64_t outer, int64_t mid, int64_t inner,
                       bool log) = 0;
  /// dx += softmax'(x) applied to dy, using y = softmax(x) (or log-softmax).
  virtual void softmax_grad(DType t, void* dx, const void* y, const void* dy, int64_t outer,
                            int64_t mid, int64_t inner, bool log) = 0;
  /// pick_neg_log_softmax's backward in one pass over the scores: for each of `batch` rows of
  /// `classes` log-probabilities logp, dx[c] += dy[b] * (exp(logp[c]) - [c == label]), the
  /// label's flat position being pos[b] (= b * classes + label). The values composing it gives
  /// (g = 0, g[pos] += dy, g = -g, softmax_grad(dx, logp, g, log)), which reads and writes the
  /// whole score array several times; on the CPU bit for bit in float, to an ulp in double.
  /// Returns false where the backend has no such kernel; the op then composes it.
  virtual bool pick_neg_log_softmax_grad(DType /*t*/, void* /*dx*/, const void* /*logp*/,
                                         const void* /*dy*/, const int32_t* /*pos*/,
                                         int64_t /*batch*/, int64_t /*classes*/) {
    return false;
  }

  // Recurrent cells.
  /// The element-wise part of an LSTM-like step for `batch` examples of hidden size h. `a` holds
  /// each example's gate pre-activations, L.blocks blocks of h (example b's block k, element j
  /// at a[(L.blocks b + k) h + j]); c0, c1 and y hold h elements per example.
  ///   State:  y = sigmoid(a_i) * tanh(a_g) + sigmoid(a_f0) * c0 + sigmoid(a_f1) * c1, the next
  ///           cell state from up to two previous ones (a null c drops its term)
  ///   Output: y = sigmoid(a_o) * tanh(c0)  (c0: the new cell state)
  /// One pass instead of the seven element-wise nodes and four slice copies of the composed
  /// form: the step of every LSTM and Tree-LSTM in flare, and on a GPU one launch instead of
  /// eleven.
  virtual void lstm(LstmPart part, DType t, void* y, const void* a, const void* c0, const void* c1,
                    LstmGates L, int64_t batch, int64_t h) = 0;
  /// Gradients of `lstm` given dy: da += dy * dy/da over the blocks the part reads, dc0 and dc1
  /// += dy * dy/dc. Any of da, dc0, dc1 may be null (not needed).
  virtual void lstm_grad(LstmPart part, DType t, void* da, void* dc0, void* dc1, const void* a,
                         const void* c0, const void* c1, const void* dy, LstmGates L,
                         int64_t batch, int64_t h) = 0;

  // Data movement.
  /// y[r*ldy + c] (+)= x[r*ldx + c] for r < rows, c < cols (concat, slice, broadcast copies).
  virtual void copy_2d(DType t, void* y, int64_t ldy, const void* x, int64_t ldx, int64_t rows,
                       int64_t cols, bool accumulate) = 0;
  /// Several copies in one call: y = dst[i], x = src[i], y[0..n[i]) = x[0..n[i]) for i < count,
  /// or y += x when `accumulate` (additions into one element happen in the order of i). dst,
  /// src and n are host arrays (of device pointers and sizes). The auto-batcher's gathers and
  /// scatters of group operands: on a GPU one launch instead of one per run of members. The
  /// default makes `count` calls of copy or axpy.
  virtual void copy_segments(DType t, void* const* dst, const void* const* src, const int64_t* n,
                             int64_t count, bool accumulate);
  /// y[i, :] = table[idx[i], :], rows of `row` elements; idx is a host array of n ids.
  virtual void gather_rows(DType t, void* y, const void* table, const int32_t* idx, int64_t n,
                           int64_t row) = 0;
  /// table[idx[i], :] += x[i, :]; idx is a host array, and may repeat.
  virtual void scatter_add_rows(DType t, void* table, const void* x, const int32_t* idx,
                                int64_t n, int64_t row) = 0;

  // Random numbers: counter-based, so (seed, offset) gives the same stream on every device.
  virtual void random(Dist d, DType t, void* y, int64_t n, double a, double b, uint64_t seed,
                      uint64_t offset) = 0;

  // Optimizers: one fused pass over value, gradient and state per call; w, g and state arrays
  // have the same layout, and only the elements of `r` are read or written. The defaults throw
  // flare::Error naming the device, so a backend may add these kernels after the rest.
  virtual void sgd_update(DType t, void* w, const void* g, void* buf, UpdateRange r, SgdStep s);
  virtual void adagrad_update(DType t, void* w, const void* g, void* sum, UpdateRange r,
                              AdagradStep s);
  virtual void adadelta_update(DType t, void* w, const void* g, void* sq, void* acc_delta,
                               UpdateRange r, AdadeltaStep s);
  virtual void adam_update(DType t, void* w, const void* g, void* m, void* v, UpdateRange r,
                           AdamStep s);
  /// `k` Adam steps with a zero gradient, steps[0] first, over n contiguous elements of w, m
  /// and v: the arithmetic of k adam_update calls whose grad_rows hint marks the elements
  /// gradient-free, so the same bits, with each block of elements kept in cache across the steps
  /// (deferred row steps, Parameter::Deferred).
  virtual void adam_idle_steps(DType t, void* w, void* m, void* v, int64_t n, const AdamStep* steps,
                               int64_t k);
  /// Sum of x^2 over the elements of `r`, accumulated in double (gradient clipping).
  virtual double sum_squares(DType t, const void* x, UpdateRange r);
  /// x *= alpha over the elements of `r`.
  virtual void scale(DType t, void* x, UpdateRange r, double alpha);

  // Checks.
  /// True when every value is finite (anomaly detection).
  virtual bool all_finite(DType t, const void* x, int64_t n) = 0;
};

/// The backend of a device; throws flare::Error when that device is not available.
Backend& backend(Device d);
/// Registers a backend (the CUDA backend registers itself when a device is present).
void register_backend(Device::Kind kind, Backend* (*factory)(int index));
/// True when a device of that kind can be used (CUDA: built in and a GPU present).
bool device_available(Device d);

}  // namespace flare
