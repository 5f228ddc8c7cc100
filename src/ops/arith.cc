// Element-wise arithmetic: add, subtract, multiply, divide, max, min, negate, scalar add and
// multiply. Binary ops broadcast over the batch and one-element operands (make_bcast).
#include "ops/registry.h"
#include "flare/ops.h"

namespace flare::ops {
namespace {

template <Binary F>
void binary_fwd(const Ctx& c) {
  c.be.binary(F, c.t(), c.out(), c.x(0), c.x(1), make_bcast(c.xs(0), c.xs(1), c.y.shape));
}

template <Binary F>
void binary_bwd(const Ctx& c) {
  Bcast bc = make_bcast(c.xs(0), c.xs(1), c.y.shape);
  for (int i = 0; i < 2; ++i)
    if (void* d = c.dx(i)) c.be.binary_grad(F, i, c.t(), d, c.x(0), c.x(1), c.out(), c.dy(), bc);
}

Shape binary_shape(const ShapeArgs& sa) { return broadcast_shape(sa, 0, 1); }

template <Binary F>
OpDef binary_def(const char* name) {
  return {name, "a,b", 2, 2, binary_shape, binary_fwd<F>, binary_bwd<F>, BatchKind::Elementwise};
}

// Scalar ops and negation are the Unary kernels with their alpha attribute.
template <Unary F>
void scalar_fwd(const Ctx& c) { c.be.unary(F, c.t(), c.out(), c.x(0), c.n(), c.y.attrs.f[0]); }
template <Unary F>
void scalar_bwd(const Ctx& c) {
  if (void* d = c.dx(0)) c.be.unary_grad(F, c.t(), d, c.x(0), c.out(), c.dy(), c.n(), c.y.attrs.f[0]);
}
Shape same_shape(const ShapeArgs& sa) { return sa.s(0); }

Expr scalar_op(OpId op, const Expr& a, double s) {
  Attrs at;
  at.f[0] = s;
  return a.graph().add(op, {a}, at);
}

}  // namespace

void register_arith(OpDef* t) {
  // y = a + b;  da += dy, db += dy
  t[int(OpId::Add)] = binary_def<Binary::Add>("add");
  // y = a - b;  da += dy, db -= dy
  t[int(OpId::Sub)] = binary_def<Binary::Sub>("subtract");
  // y = a * b;  da += dy * b, db += dy * a
  t[int(OpId::Mul)] = binary_def<Binary::Mul>("multiply");
  // y = a / b;  da += dy / b, db -= dy * y / b
  t[int(OpId::Div)] = binary_def<Binary::Div>("divide");
  // y = max(a, b);  the larger operand (a on ties) gets dy
  t[int(OpId::Max)] = binary_def<Binary::Max>("max");
  t[int(OpId::Min)] = binary_def<Binary::Min>("min");
  // y = -x;  dx -= dy
  t[int(OpId::Neg)] = {"negate", "x", 1, 1, same_shape, scalar_fwd<Unary::Neg>, scalar_bwd<Unary::Neg>, BatchKind::Elementwise};
  // y = x + s;  dx += dy
  t[int(OpId::AddScalar)] = {"add_scalar", "x", 1, 1, same_shape, scalar_fwd<Unary::AddScalar>, scalar_bwd<Unary::AddScalar>, BatchKind::Elementwise};
  // y = s * x;  dx += s * dy
  t[int(OpId::MulScalar)] = {"multiply_scalar", "x", 1, 1, same_shape, scalar_fwd<Unary::Scale>, scalar_bwd<Unary::Scale>, BatchKind::Elementwise};
}

}  // namespace flare::ops

namespace flare {

Expr operator+(const Expr& a, const Expr& b) { return a.graph().add(OpId::Add, {a, b}); }
Expr operator-(const Expr& a, const Expr& b) { return a.graph().add(OpId::Sub, {a, b}); }
Expr operator-(const Expr& a) { return a.graph().add(OpId::Neg, {a}); }
Expr operator*(const Expr& a, const Expr& b) { return a.graph().add(OpId::Mul, {a, b}); }
Expr operator/(const Expr& a, const Expr& b) { return a.graph().add(OpId::Div, {a, b}); }
Expr cmult(const Expr& a, const Expr& b) { return a * b; }
Expr cdiv(const Expr& a, const Expr& b) { return a / b; }
Expr max(const Expr& a, const Expr& b) { return a.graph().add(OpId::Max, {a, b}); }
Expr min(const Expr& a, const Expr& b) { return a.graph().add(OpId::Min, {a, b}); }
Expr operator+(const Expr& a, double s) { return ops::scalar_op(OpId::AddScalar, a, s); }
Expr operator+(double s, const Expr& a) { return a + s; }
Expr operator-(const Expr& a, double s) { return a + (-s); }
Expr operator-(double s, const Expr& a) { return ops::scalar_op(OpId::AddScalar, -a, s); }
Expr operator*(const Expr& a, double s) { return ops::scalar_op(OpId::MulScalar, a, s); }
Expr operator*(double s, const Expr& a) { return a * s; }
Expr operator/(const Expr& a, double s) { return a * (1.0 / s); }

}  // namespace flare
