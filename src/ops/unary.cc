// Element-wise nonlinearities. Each op maps to one shared functor (backend/functors.h); the
// backward reads x or y = f(x) as the functor needs.
#include "ops/registry.h"
#include "flare/ops.h"

namespace flare::ops {
namespace {

template <Unary F>
void fwd(const Ctx& c) { c.be.unary(F, c.t(), c.out(), c.x(0), c.n(), c.y.attrs.f[0]); }
template <Unary F>
void bwd(const Ctx& c) {
  if (void* d = c.dx(0)) c.be.unary_grad(F, c.t(), d, c.x(0), c.out(), c.dy(), c.n(), c.y.attrs.f[0]);
}
Shape same_shape(const ShapeArgs& sa) { return sa.s(0); }

template <Unary F>
OpDef def_of(const char* name) {
  return {name, "x", 1, 1, same_shape, fwd<F>, bwd<F>, BatchKind::Elementwise};
}

}  // namespace

void register_unary(OpDef* t) {
  t[int(OpId::Tanh)] = def_of<Unary::Tanh>("tanh");              // dx += dy * (1 - y^2)
  t[int(OpId::Sigmoid)] = def_of<Unary::Sigmoid>("sigmoid");     // dx += dy * y * (1 - y)
  t[int(OpId::Relu)] = def_of<Unary::Relu>("relu");              // dx += dy * [x > 0]
  t[int(OpId::Elu)] = def_of<Unary::Elu>("elu");                 // dx += dy * (x > 0 ? 1 : y + alpha)
  t[int(OpId::Softplus)] = def_of<Unary::Softplus>("softplus");  // dx += dy * sigmoid(x)
  t[int(OpId::Exp)] = def_of<Unary::Exp>("exp");                 // dx += dy * y
  t[int(OpId::Log)] = def_of<Unary::Log>("log");                 // dx += dy / x
  t[int(OpId::Sqrt)] = def_of<Unary::Sqrt>("sqrt");              // dx += dy / (2 y)
  t[int(OpId::Square)] = def_of<Unary::Square>("square");        // dx += 2 x dy
  t[int(OpId::Abs)] = def_of<Unary::Abs>("abs");                 // dx += dy * sign(x)
}

}  // namespace flare::ops

namespace flare {

Expr tanh(const Expr& x) { return x.graph().add(OpId::Tanh, {x}); }
Expr sigmoid(const Expr& x) { return x.graph().add(OpId::Sigmoid, {x}); }
Expr relu(const Expr& x) { return x.graph().add(OpId::Relu, {x}); }
Expr elu(const Expr& x, double alpha) {
  Attrs a;
  a.f[0] = alpha;
  return x.graph().add(OpId::Elu, {x}, a);
}
Expr softplus(const Expr& x) { return x.graph().add(OpId::Softplus, {x}); }
Expr exp(const Expr& x) { return x.graph().add(OpId::Exp, {x}); }
Expr log(const Expr& x) { return x.graph().add(OpId::Log, {x}); }
Expr sqrt(const Expr& x) { return x.graph().add(OpId::Sqrt, {x}); }
Expr square(const Expr& x) { return x.graph().add(OpId::Square, {x}); }
Expr abs(const Expr& x) { return x.graph().add(OpId::Abs, {x}); }
// log(sigmoid(x)) = -softplus(-x): a composite, so no backward of its own is needed.
Expr log_sigmoid(const Expr& x) { return -softplus(-x); }

}  // namespace flare
