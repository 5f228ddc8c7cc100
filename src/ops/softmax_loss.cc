// Softmax, log-softmax and the losses built on them. pick_neg_log_softmax is fused (the
// classifier loss of every example model); binary_log_loss and cross_entropy are composites.
#include "ops/helpers.h"
#include "flare/ops.h"

namespace flare::ops {
namespace {

struct View {
  int64_t outer, mid, inner;
};
View softmax_view(const Shape& x, const Attrs& a) {
  int d = x.axis(int(a.i[0]), "softmax");
  return {x.batch() * x.outer(d), x.nd() == 0 ? 1 : x.dim(d), x.inner(d)};
}

Shape softmax_shape(const ShapeArgs& sa) {
  sa.s(0).axis(int(sa.attrs.i[0]), op_name(sa.op));
  return sa.s(0);
}
template <bool Log>
void softmax_fwd(const Ctx& c) {
  View v = softmax_view(c.xs(0), c.y.attrs);
  c.be.softmax(c.t(), c.out(), c.x(0), v.outer, v.mid, v.inner, Log);
}
template <bool Log>
void softmax_bwd(const Ctx& c) {
  void* d = c.dx(0);
  if (!d) return;
  View v = softmax_view(c.xs(0), c.y.attrs);
  c.be.softmax_grad(c.t(), d, c.out(), c.dy(), v.outer, v.mid, v.inner, Log);
}

// ---- pick_neg_log_softmax: scores [C] per example, labels one or one per example ----
Shape pnls_shape(const ShapeArgs& sa) {
  const Shape& x = sa.s(0);
  if (x.nd() != 1) sa.fail("scores must be a vector of class scores");
  const int64_t n = sa.attrs.n_idx;
  if (n != 1 && n != x.batch())
    sa.fail(std::to_string(n) + " labels for a batch of " + std::to_string(x.batch()));
  for (int64_t k = 0; k < n; ++k)
    if (sa.attrs.idx[k] < 0 || sa.attrs.idx[k] >= x.dim(0))
      throw IndexError("pick_neg_log_softmax: label " + std::to_string(sa.attrs.idx[k]) +
                       " out of range [0, " + std::to_string(x.dim(0)) + ") for scores " + x.str());
  return Shape({}, x.batch());
}
const int32_t* label_positions(const Ctx& c) {
  const int64_t batch = c.y.shape.batch(), classes = c.xs(0).dim(0);
  int32_t* pos = c.g->alloc_indices(size_t(batch));
  for (int64_t b = 0; b < batch; ++b)
    pos[b] = int32_t(b * classes + c.y.attrs.idx[c.y.attrs.n_idx == 1 ? 0 : b]);
  return pos;
}
void pnls_fwd(const Ctx& c) {
  const int64_t batch = c.y.shape.batch(), classes = c.xs(0).dim(0);
  void* logp = scratch(c, batch * classes);  // kept for backward
  c.y.attrs.aux = logp;
  c.be.softmax(c.t(), logp, c.x(0), batch, classes, 1, true);
  c.be.gather_rows(c.t(), c.out(), logp, label_positions(c), batch, 1);
  c.be.unary(Unary::Neg, c.t(), c.out(), c.out(), batch, 0);
}
void pnls_bwd(const Ctx& c) {
  void* d = c.dx(0);
  if (!d) return;
  const int64_t batch = c.y.shape.batch(), classes = c.xs(0).dim(0);
  // dx += dy * (softmax(x) - onehot(label)): log-softmax's backward of g = -dy at the label,
  // in one pass where the backend has the kernel (a language model's scores are tens of MB).
  const int32_t* pos = label_positions(c);
  if (c.be.pick_neg_log_softmax_grad(c.t(), d, c.y.attrs.aux, c.dy(), pos, batch, classes)) return;
  void* g = scratch(c, batch * classes);
  c.be.fill(c.t(), g, batch * classes, 0.0);
  c.be.scatter_add_rows(c.t(), g, c.dy(), pos, batch, 1);
  c.be.unary(Unary::Neg, c.t(), g, g, batch * classes, 0);
  c.be.softmax_grad(c.t(), d, c.y.attrs.aux, g, batch, classes, 1, true);
}

Attrs with_labels(Graph& g, const std::vector<int32_t>& labels) {
  Attrs a;
  int32_t* p = g.alloc_indices(labels.size());
  std::copy(labels.begin(), labels.end(), p);
  a.idx = p;
  a.n_idx = int64_t(labels.size());
  return a;
}

}  // namespace

void register_softmax_loss(OpDef* t) {
  // y = exp(x) / sum(exp(x)) along dim;  dx += y * (dy - <dy, y>)
  t[int(OpId::Softmax)] = {"softmax", "x", 1, 1, softmax_shape, softmax_fwd<false>, softmax_bwd<false>, BatchKind::PerExample};
  // y = x - logsumexp(x) along dim;  dx += dy - softmax(x) * sum(dy)
  t[int(OpId::LogSoftmax)] = {"log_softmax", "x", 1, 1, softmax_shape, softmax_fwd<true>, softmax_bwd<true>, BatchKind::PerExample};
  // y = -log softmax(x)[label];  dx += dy * (softmax(x) - onehot(label))
  t[int(OpId::PickNegLogSoftmax)] = {"pick_neg_log_softmax", "x", 1, 1, pnls_shape, pnls_fwd, pnls_bwd, BatchKind::PerExample};
}

}  // namespace flare::ops

namespace flare {

Expr softmax(const Expr& x, int dim) {
  Attrs a;
  a.i[0] = dim;
  return x.graph().add(OpId::Softmax, {x}, a);
}
Expr log_softmax(const Expr& x, int dim) {
  Attrs a;
  a.i[0] = dim;
  return x.graph().add(OpId::LogSoftmax, {x}, a);
}
Expr pick_neg_log_softmax(const Expr& x, int32_t label) {
  return pick_neg_log_softmax(x, std::vector<int32_t>{label});
}
Expr pick_neg_log_softmax(const Expr& x, const std::vector<int32_t>& labels) {
  return x.graph().add(OpId::PickNegLogSoftmax, {x}, ops::with_labels(x.graph(), labels));
}
// Composites: their gradients come from the ops they are made of.
Expr binary_log_loss(const Expr& p, const Expr& target) {
  if (!p.shape().same_dims(target.shape()))
    throw ShapeError("binary_log_loss: p and target must have the same shape; got p=" + p.shape().str() +
                     " target=" + target.shape().str());
  // Probabilities are clamped away from 0 and 1 (as PyTorch's BCELoss clamps its logs), so a
  // saturated sigmoid gives a large finite loss instead of 0 * -inf = NaN.
  Expr eps = p.graph().scalar(p.dtype() == DType::f32 ? 1e-7 : 1e-15, p.dtype());
  return -sum(target * log(max(p, eps)) + (1.0 - target) * log(max(1.0 - p, eps)));
}
Expr cross_entropy(const Expr& x, const Expr& q) {
  if (!x.shape().same_dims(q.shape()))
    throw ShapeError("cross_entropy: scores and target distribution must have the same shape; got x=" +
                     x.shape().str() + " q=" + q.shape().str());
  return -sum(q * log_softmax(x, -1));
}

}  // namespace flare
