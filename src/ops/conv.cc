// 1-D convolution and pooling over [channels, time] sequences. Convolution is an unfold
// (im2col) of the zero-padded input into [Cin*K, Tout] columns followed by one GEMM with the
// [Cout, Cin*K] weight; backward is two GEMMs and the matching fold (col2im). Windowed pooling
// unfolds windows into rows and reduces them; k-max pooling gathers host-chosen positions.
// Everything goes through backend primitives, so the CUDA backend runs these too.
#include <algorithm>
#include <numeric>
#include <vector>

#include "flare/conv.h"
#include "flare/ops.h"
#include "ops/helpers.h"

namespace flare::ops {
namespace {

std::string str(int64_t v) { return std::to_string(v); }

// ---- conv1d: args x, W[, b]; attrs.i = {stride, pad_left, pad_right, dilation} ----
struct ConvGeom {
  int64_t B, Cin, T, Cout, K, stride, pl, pr, dil, Tp, Tout;
  int64_t ck() const { return Cin * K; }
};

ConvGeom geom(const Shape& x, const Shape& w, const Attrs& a) {
  ConvGeom g{};
  g.B = x.batch();
  g.Cin = x.dim(0);
  g.T = x.dim(1);
  g.Cout = w.dim(0);
  g.K = w.dim(2);
  g.stride = a.i[0];
  g.pl = a.i[1];
  g.pr = a.i[2];
  g.dil = a.i[3];
  g.Tp = g.T + g.pl + g.pr;
  const int64_t span = g.dil * (g.K - 1) + 1;
  g.Tout = g.Tp >= span ? (g.Tp - span) / g.stride + 1 : 0;
  return g;
}

Shape conv_shape(const ShapeArgs& sa) {
  const Shape &x = sa.s(0), &w = sa.s(1);
  if (x.nd() != 2) sa.fail("x must be [channels, time]");
  if (w.nd() != 3) sa.fail("W must be [out_channels, in_channels, width]");
  if (w.batch() != 1) sa.fail("W must not be batched");
  if (w.dim(1) != x.dim(0))
    sa.fail("W has " + str(w.dim(1)) + " input channels but x has " + str(x.dim(0)));
  const Attrs& a = sa.attrs;
  if (a.i[0] < 1) sa.fail("stride must be at least 1, got " + str(a.i[0]));
  if (a.i[3] < 1) sa.fail("dilation must be at least 1, got " + str(a.i[3]));
  if (a.i[1] < 0 || a.i[2] < 0)
    sa.fail("padding must be non-negative, got " + str(a.i[1]) + "/" + str(a.i[2]));
  if (w.dim(2) < 1 || w.dim(0) < 1) sa.fail("W must have at least one filter of width 1");
  if (sa.nargs == 3) {
    const Shape& b = sa.s(2);
    if (b.nd() != 1 || b.dim(0) != w.dim(0) || b.batch() != 1)
      sa.fail("b must be [" + str(w.dim(0)) + "] (one bias per output channel)");
  }
  ConvGeom g = geom(x, w, a);
  if (g.Tout < 1) {
    const int64_t span = g.dil * (g.K - 1) + 1;
    sa.fail("kernel of width " + str(g.K) + " (dilation " + str(g.dil) + ", span " + str(span) +
            ") is wider than the padded input (" + str(g.T) + " time steps + " + str(g.pl) +
            " + " + str(g.pr) + " padding)");
  }
  return Shape({g.Cout, g.Tout}, g.B);
}

// Element index into the padded input [B*Cin, Tp] of each column entry [B][Cin*K][Tout].
int32_t* unfold_index(const Ctx& c, const ConvGeom& g) {
  int32_t* idx = c.g->alloc_indices(size_t(g.B * g.ck() * g.Tout));
  int32_t* p = idx;
  for (int64_t bc = 0; bc < g.B * g.Cin; ++bc)
    for (int64_t k = 0; k < g.K; ++k)
      for (int64_t t = 0; t < g.Tout; ++t) *p++ = int32_t(bc * g.Tp + t * g.stride + k * g.dil);
  return idx;
}

// cols[b][i*K + k][t] = xp[b][i][t*stride + k*dil]. At stride 1 each (i, k) row is a
// contiguous run of xp, so K strided copies do it; otherwise one element gather.
void unfold(const Ctx& c, const ConvGeom& g, void* cols, const void* xp) {
  if (g.stride == 1) {
    for (int64_t k = 0; k < g.K; ++k)
      c.be.copy_2d(c.t(), offset(cols, k * g.Tout, c.t()), g.K * g.Tout,
                   offset(xp, k * g.dil, c.t()), g.Tp, g.B * g.Cin, g.Tout, false);
  } else {
    c.be.gather_rows(c.t(), cols, xp, unfold_index(c, g), g.B * g.ck() * g.Tout, 1);
  }
}
// The adjoint of unfold: dxp += fold(dcols).
void fold(const Ctx& c, const ConvGeom& g, void* dxp, const void* dcols) {
  if (g.stride == 1) {
    for (int64_t k = 0; k < g.K; ++k)
      c.be.copy_2d(c.t(), offset(dxp, k * g.dil, c.t()), g.Tp, offset(dcols, k * g.Tout, c.t()),
                   g.K * g.Tout, g.B * g.Cin, g.Tout, true);
  } else {
    c.be.scatter_add_rows(c.t(), dxp, dcols, unfold_index(c, g), g.B * g.ck() * g.Tout, 1);
  }
}

void* ones(const Ctx& c, int64_t n) {
  void* p = scratch(c, n);
  c.be.fill(c.t(), p, n, 1.0);
  return p;
}

void conv_fwd(const Ctx& c) {
  const ConvGeom g = geom(c.xs(0), c.xs(1), c.y.attrs);
  const void* xp = c.x(0);
  if (g.pl || g.pr) {
    void* pad = scratch(c, g.B * g.Cin * g.Tp);
    c.be.fill(c.t(), pad, g.B * g.Cin * g.Tp, 0.0);
    c.be.copy_2d(c.t(), offset(pad, g.pl, c.t()), g.Tp, c.x(0), g.T, g.B * g.Cin, g.T, false);
    xp = pad;
  }
  const int64_t cs = g.ck() * g.Tout, ys = g.Cout * g.Tout;
  void* cols = scratch(c, g.B * cs);
  unfold(c, g, cols, xp);
  c.y.attrs.aux = cols;  // backward needs the columns for dW
  c.be.gemm_batched(c.t(), false, false, g.Cout, g.Tout, g.ck(), 1.0, c.x(1), g.ck(), 0, cols,
                    g.Tout, cs, 0.0, c.out(), g.Tout, ys, g.B);
  if (c.nargs == 3)  // y[b] += b * ones^T
    c.be.gemm_batched(c.t(), false, false, g.Cout, g.Tout, 1, 1.0, c.x(2), 1, 0, ones(c, g.Tout),
                      g.Tout, 0, 1.0, c.out(), g.Tout, ys, g.B);
}

void conv_bwd(const Ctx& c) {
  const ConvGeom g = geom(c.xs(0), c.xs(1), c.y.attrs);
  const int64_t cs = g.ck() * g.Tout, ys = g.Cout * g.Tout;
  const void* cols = c.y.attrs.aux;
  if (void* dw = c.dx(1))  // dW += sum_b dy[b] cols[b]^T
    for (int64_t b = 0; b < g.B; ++b)
      c.be.gemm(c.t(), false, true, g.Cout, g.ck(), g.Tout, 1.0, offset(c.dy(), b * ys, c.t()),
                g.Tout, offset(cols, b * cs, c.t()), g.Tout, 1.0, dw, g.ck());
  if (c.nargs == 3)
    if (void* db = c.dx(2)) {  // db += sum_b dy[b] ones
      void* one = ones(c, g.Tout);
      for (int64_t b = 0; b < g.B; ++b)
        c.be.gemm(c.t(), false, false, g.Cout, 1, g.Tout, 1.0, offset(c.dy(), b * ys, c.t()),
                  g.Tout, one, 1, 1.0, db, 1);
    }
  if (void* dx = c.dx(0)) {  // dcols = W^T dy, then fold into (padded) dx
    void* dcols = scratch(c, g.B * cs);
    c.be.gemm_batched(c.t(), true, false, g.ck(), g.Tout, g.Cout, 1.0, c.x(1), g.ck(), 0, c.dy(),
                      g.Tout, ys, 0.0, dcols, g.Tout, cs, g.B);
    if (!g.pl && !g.pr) {
      fold(c, g, dx, dcols);
      return;
    }
    void* dxp = scratch(c, g.B * g.Cin * g.Tp);
    c.be.fill(c.t(), dxp, g.B * g.Cin * g.Tp, 0.0);
    fold(c, g, dxp, dcols);
    c.be.copy_2d(c.t(), dx, g.T, offset(dxp, g.pl, c.t()), g.Tp, g.B * g.Cin, g.T, true);
  }
}

// ---- max_pool1d / avg_pool1d: attrs.i = {kernel, stride} ----
Shape pool_shape(const ShapeArgs& sa) {
  const Shape& x = sa.s(0);
  if (x.nd() != 2) sa.fail("x must be [channels, time]");
  const int64_t k = sa.attrs.i[0], s = sa.attrs.i[1];
  if (k < 1 || s < 1) sa.fail("kernel and stride must be at least 1, got " + str(k) + " and " + str(s));
  if (k > x.dim(1))
    sa.fail("window of " + str(k) + " is wider than the input's " + str(x.dim(1)) + " time steps");
  return Shape({x.dim(0), (x.dim(1) - k) / s + 1}, x.batch());
}

// Rows of the window matrix [B*C*Tout, K]: element indices into x.
int32_t* window_index(const Ctx& c, int64_t* rows, int64_t* k_out) {
  const Shape& x = c.xs(0);
  const int64_t k = c.y.attrs.i[0], s = c.y.attrs.i[1], T = x.dim(1), To = c.y.shape.dim(1);
  const int64_t bc = x.batch() * x.dim(0);
  int32_t* idx = c.g->alloc_indices(size_t(bc * To * k));
  int32_t* p = idx;
  for (int64_t r = 0; r < bc; ++r)
    for (int64_t t = 0; t < To; ++t)
      for (int64_t j = 0; j < k; ++j) *p++ = int32_t(r * T + t * s + j);
  *rows = bc * To;
  *k_out = k;
  return idx;
}

Reduce pool_reduce(const Ctx& c) { return c.y.op == OpId::MaxPool1d ? Reduce::Max : Reduce::Sum; }

void pool_fwd(const Ctx& c) {
  int64_t rows, k;
  const int32_t* idx = window_index(c, &rows, &k);
  void* win = scratch(c, rows * k);
  c.be.gather_rows(c.t(), win, c.x(0), idx, rows * k, 1);
  c.y.attrs.aux = win;
  c.be.reduce(pool_reduce(c), c.t(), c.out(), win, rows, k, 1);
  if (c.y.op == OpId::AvgPool1d) c.be.unary(Unary::Scale, c.t(), c.out(), c.out(), rows, 1.0 / double(k));
}
void pool_bwd(const Ctx& c) {
  void* dx = c.dx(0);
  if (!dx) return;
  int64_t rows, k;
  const int32_t* idx = window_index(c, &rows, &k);
  void* dwin = scratch(c, rows * k);
  c.be.fill(c.t(), dwin, rows * k, 0.0);
  const double alpha = c.y.op == OpId::AvgPool1d ? 1.0 / double(k) : 1.0;
  c.be.reduce_grad(pool_reduce(c), c.t(), dwin, c.y.attrs.aux, c.out(), c.dy(), rows, k, 1, alpha);
  c.be.scatter_add_rows(c.t(), dx, dwin, idx, rows * k, 1);
}

// ---- kmax_pool: attrs.i[0] = k; aux = the chosen element indices (host) ----
Shape kmax_shape(const ShapeArgs& sa) {
  const Shape& x = sa.s(0);
  if (x.nd() != 2) sa.fail("x must be [channels, time]");
  const int64_t k = sa.attrs.i[0];
  if (k < 1) sa.fail("k must be at least 1, got " + str(k));
  if (k > x.dim(1)) sa.fail("k = " + str(k) + " is more than the input's " + str(x.dim(1)) + " time steps");
  return Shape({x.dim(0), k}, x.batch());
}

template <typename F>
void choose_kmax(const F* v, int64_t rows, int64_t len, int64_t k, int32_t* idx) {
  std::vector<int32_t> order(static_cast<size_t>(len));
  for (int64_t r = 0; r < rows; ++r) {
    const F* row = v + r * len;
    std::iota(order.begin(), order.end(), 0);
    // Largest first; ties go to the earlier position, so the choice is deterministic.
    std::partial_sort(order.begin(), order.begin() + k, order.end(), [&](int32_t a, int32_t b) {
      return row[a] > row[b] || (row[a] == row[b] && a < b);
    });
    std::sort(order.begin(), order.begin() + k);
    for (int64_t j = 0; j < k; ++j) idx[r * k + j] = int32_t(r * len + order[size_t(j)]);
  }
}

void kmax_fwd(const Ctx& c) {
  const Shape& x = c.xs(0);
  const int64_t rows = x.batch() * x.dim(0), T = x.dim(1), k = c.y.attrs.i[0];
  std::vector<char> host(size_t(x.total()) * dtype_size(c.t()));
  c.be.to_host(host.data(), c.x(0), host.size());
  int32_t* idx = c.g->alloc_indices(size_t(rows * k));
  if (c.t() == DType::f32)
    choose_kmax(reinterpret_cast<const float*>(host.data()), rows, T, k, idx);
  else
    choose_kmax(reinterpret_cast<const double*>(host.data()), rows, T, k, idx);
  c.y.attrs.aux = idx;
  c.be.gather_rows(c.t(), c.out(), c.x(0), idx, rows * k, 1);
}
void kmax_bwd(const Ctx& c) {
  if (void* dx = c.dx(0))
    c.be.scatter_add_rows(c.t(), dx, c.dy(), static_cast<const int32_t*>(c.y.attrs.aux), c.n(), 1);
}

// ---- batch_to_columns: [C]xT -> [C, T]; in memory a [T, C] -> [C, T] transpose ----
Shape columns_shape(const ShapeArgs& sa) {
  const Shape& x = sa.s(0);
  if (x.nd() > 1) sa.fail("x must be a vector per batch item");
  return Shape({x.size(), x.batch()});
}
void columns_fwd(const Ctx& c) {
  c.be.transpose(c.t(), c.out(), c.x(0), c.xs(0).batch(), c.xs(0).size(), 1, false);
}
void columns_bwd(const Ctx& c) {
  if (void* dx = c.dx(0)) c.be.transpose(c.t(), dx, c.dy(), c.xs(0).size(), c.xs(0).batch(), 1, true);
}

Expr pool(OpId op, const Expr& x, int64_t kernel, int64_t stride) {
  Attrs a;
  a.i[0] = kernel;
  a.i[1] = stride == 0 ? kernel : stride;
  return x.graph().add(op, {x}, a);
}

void need_sequence(const Expr& x, const char* op) {
  if (x.shape().nd() != 2)
    throw ShapeError(std::string(op) + ": x must be [channels, time]; got x=" + x.shape().str());
}

}  // namespace

void register_conv(OpDef* t) {
  t[int(OpId::Conv1d)] = {"conv1d", "x,W,b", 2, 3, conv_shape, conv_fwd, conv_bwd, BatchKind::None};
  t[int(OpId::MaxPool1d)] = {"max_pool1d", "x", 1, 1, pool_shape, pool_fwd, pool_bwd, BatchKind::None};
  t[int(OpId::AvgPool1d)] = {"avg_pool1d", "x", 1, 1, pool_shape, pool_fwd, pool_bwd, BatchKind::None};
  t[int(OpId::BatchToColumns)] = {"batch_to_columns", "x", 1, 1, columns_shape, columns_fwd, columns_bwd,
                                   BatchKind::None};
  t[int(OpId::KMaxPool)] = {"kmax_pool", "x", 1, 1, kmax_shape, kmax_fwd, kmax_bwd, BatchKind::None};
}

}  // namespace flare::ops

namespace flare {

Expr conv1d(const Expr& x, const Expr& W, const Expr& b, const Conv1dArgs& a) {
  Attrs at;
  at.i[0] = a.stride;
  at.i[3] = a.dilation;
  if (a.pad.same) {
    if (a.stride != 1)
      throw ShapeError("conv1d: 'same' padding needs stride 1, got stride " + std::to_string(a.stride));
    const int64_t total = a.dilation * (W.shape().nd() == 3 ? W.shape().dim(2) - 1 : 0);
    at.i[1] = total / 2;
    at.i[2] = total - total / 2;
  } else {
    at.i[1] = a.pad.left;
    at.i[2] = a.pad.right;
  }
  if (b.valid()) return x.graph().add(OpId::Conv1d, {x, W, b}, at);
  return x.graph().add(OpId::Conv1d, {x, W}, at);
}
Expr conv1d(const Expr& x, const Expr& W, const Conv1dArgs& a) { return conv1d(x, W, Expr(), a); }

Expr max_pool1d(const Expr& x, int64_t kernel, int64_t stride) {
  return ops::pool(OpId::MaxPool1d, x, kernel, stride);
}
Expr avg_pool1d(const Expr& x, int64_t kernel, int64_t stride) {
  return ops::pool(OpId::AvgPool1d, x, kernel, stride);
}
Expr max_over_time(const Expr& x) {
  ops::need_sequence(x, "max_over_time");
  return max(x, 1);
}
Expr avg_over_time(const Expr& x) {
  ops::need_sequence(x, "avg_over_time");
  return mean(x, 1);
}
Expr batch_to_columns(const Expr& x) { return x.graph().add(OpId::BatchToColumns, {x}); }
Expr kmax_pool(const Expr& x, int64_t k) {
  Attrs a;
  a.i[0] = k;
  return x.graph().add(OpId::KMaxPool, {x}, a);
}

}  // namespace flare
