#pragma once
/// 1-D convolution and pooling over sequences laid out as [channels, time] (row-major, so one
/// channel's time steps are contiguous), each with an optional batch dimension.
#include <cstdint>

#include "flare/graph.h"

namespace flare {

/// Padding of a 1-D convolution: explicit left/right amounts, or "same" (output as long as
/// the input at stride 1; the odd extra column goes on the right, as in PyTorch).
struct Pad1d {
  int64_t left = 0, right = 0;
  bool same = false;
  static Pad1d none() { return {}; }
  static Pad1d both(int64_t p) { return {p, p, false}; }
  static Pad1d explicit_lr(int64_t l, int64_t r) { return {l, r, false}; }
  static Pad1d same_length() { return {0, 0, true}; }
};

struct Conv1dArgs {
  int64_t stride = 1;
  Pad1d pad{};
  int64_t dilation = 1;
};

/// y[o, t] = b[o] + sum_{i,k} W[o, i, k] * xpad[i, t*stride + k*dilation].
/// x: [Cin, T]xB; W: [Cout, Cin, K] (not batched); b: [Cout] (not batched; pass an empty Expr
/// for no bias). Returns [Cout, Tout]xB, Tout = (T + left + right - dilation*(K-1) - 1)/stride + 1.
/// Computed as an unfold (im2col) plus one GEMM per batch.
Expr conv1d(const Expr& x, const Expr& W, const Expr& b, const Conv1dArgs& a = {});
Expr conv1d(const Expr& x, const Expr& W, const Conv1dArgs& a = {});

/// Windowed max / mean over time: x [C, T]xB -> [C, (T - kernel)/stride + 1]xB (no padding).
/// stride 0 means stride = kernel.
Expr max_pool1d(const Expr& x, int64_t kernel, int64_t stride = 0);
Expr avg_pool1d(const Expr& x, int64_t kernel, int64_t stride = 0);
/// Global pooling over time: x [C, T]xB -> [C]xB.
Expr max_over_time(const Expr& x);
Expr avg_over_time(const Expr& x);
/// k-max pooling (Kalchbrenner et al. 2014): the k largest values of each channel, kept in
/// their original time order. x [C, T]xB -> [C, k]xB; gradient flows to the chosen positions.
Expr kmax_pool(const Expr& x, int64_t k);

/// The batch items as the columns of one matrix: x [C]xT -> [C, T] (batch 1). Turns a lookup of
/// T words ([dim]xT) into the [dim, T] sequence conv1d reads.
Expr batch_to_columns(const Expr& x);

}  // namespace flare
