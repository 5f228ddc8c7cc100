// Reductions: sum (of each example, along a dim, over the batch), max and min along a dim, and
// log-sum-exp. Each views its input as [outer, mid, inner] and reduces mid; mean is a
// composite (a sum times a constant).
#include "ops/helpers.h"
#include "flare/ops.h"

namespace flare::ops {
namespace {

struct View {
  int64_t outer, mid, inner;
};

// The [outer, mid, inner] view of each op's input.
View view_of(OpId op, const Shape& x, const Attrs& a) {
  switch (op) {
    case OpId::Sum: return {x.batch(), x.size(), 1};
    case OpId::SumBatch: return {1, x.batch(), x.size()};
    default: {
      int d = x.axis(int(a.i[0]), op_name(op));
      return {x.batch() * x.outer(d), x.nd() == 0 ? 1 : x.dim(d), x.inner(d)};
    }
  }
}

Reduce reduce_of(OpId op) {
  switch (op) {
    case OpId::MaxDim: return Reduce::Max;
    case OpId::MinDim: return Reduce::Min;
    case OpId::LogSumExp: return Reduce::LogSumExp;
    default: return Reduce::Sum;
  }
}

Shape sum_shape(const ShapeArgs& sa) { return Shape({}, sa.s(0).batch()); }
Shape sum_batch_shape(const ShapeArgs& sa) { return sa.s(0).with_batch(1); }
Shape dim_shape(const ShapeArgs& sa) {
  const Shape& x = sa.s(0);
  if (x.nd() == 0) sa.fail("needs at least one dimension to reduce");
  int d = x.axis(int(sa.attrs.i[0]), op_name(sa.op));
  if (x.dim(d) == 0) sa.fail("cannot reduce an empty dim");
  return x.without_dim(d);
}

void fwd(const Ctx& c) {
  View v = view_of(c.y.op, c.xs(0), c.y.attrs);
  c.be.reduce(reduce_of(c.y.op), c.t(), c.out(), c.x(0), v.outer, v.mid, v.inner);
}
void bwd(const Ctx& c) {
  void* d = c.dx(0);
  if (!d) return;
  View v = view_of(c.y.op, c.xs(0), c.y.attrs);
  c.be.reduce_grad(reduce_of(c.y.op), c.t(), d, c.x(0), c.out(), c.dy(), v.outer, v.mid, v.inner, 1.0);
}

Expr dim_op(OpId op, const Expr& x, int dim) {
  Attrs a;
  a.i[0] = dim;
  return x.graph().add(op, {x}, a);
}

}  // namespace

void register_reduce(OpDef* t) {
  // y_b = sum(x_b);  dx += dy_b
  t[int(OpId::Sum)] = {"sum", "x", 1, 1, sum_shape, fwd, bwd, BatchKind::PerExample};
  // y = sum over dim;  dx += dy broadcast along dim
  t[int(OpId::SumDim)] = {"sum_dim", "x", 1, 1, dim_shape, fwd, bwd, BatchKind::PerExample};
  // y = sum_b x_b;  dx_b += dy
  t[int(OpId::SumBatch)] = {"sum_batch", "x", 1, 1, sum_batch_shape, fwd, bwd, BatchKind::None};
  // y = max over dim;  dx += dy at the (first) maximum
  t[int(OpId::MaxDim)] = {"max_dim", "x", 1, 1, dim_shape, fwd, bwd, BatchKind::PerExample};
  t[int(OpId::MinDim)] = {"min_dim", "x", 1, 1, dim_shape, fwd, bwd, BatchKind::PerExample};
  // y = log sum exp(x) over dim;  dx += dy * exp(x - y)
  t[int(OpId::LogSumExp)] = {"logsumexp", "x", 1, 1, dim_shape, fwd, bwd, BatchKind::PerExample};
}

}  // namespace flare::ops

namespace flare {

Expr sum(const Expr& x) { return x.graph().add(OpId::Sum, {x}); }
Expr sum(const Expr& x, int dim) { return ops::dim_op(OpId::SumDim, x, dim); }
Expr sum_batch(const Expr& x) { return x.graph().add(OpId::SumBatch, {x}); }
Expr sum(const std::vector<Expr>& xs) {
  if (xs.empty()) throw ShapeError("sum: needs at least one operand; got none");
  Expr s = xs[0];
  for (size_t i = 1; i < xs.size(); ++i) s = s + xs[i];
  return s;
}
Expr mean(const Expr& x) { return sum(x) * (1.0 / double(x.shape().size())); }
Expr mean(const Expr& x, int dim) {
  int d = x.shape().axis(dim, "mean");
  return sum(x, d) * (1.0 / double(x.shape().nd() == 0 ? 1 : x.shape().dim(d)));
}
Expr mean_batch(const Expr& x) { return sum_batch(x) * (1.0 / double(x.shape().batch())); }
Expr max(const Expr& x, int dim) { return ops::dim_op(OpId::MaxDim, x, dim); }
Expr min(const Expr& x, int dim) { return ops::dim_op(OpId::MinDim, x, dim); }
Expr logsumexp(const Expr& x, int dim) { return ops::dim_op(OpId::LogSumExp, x, dim); }

}  // namespace flare
