// Ops that draw random numbers: dropout and gaussian noise. Numbers come from the graph's
// counter-based stream, so a seeded run repeats exactly on any device.
#include "ops/helpers.h"
#include "flare/ops.h"

namespace flare::ops {
namespace {

Shape same_shape(const ShapeArgs& sa) {
  double p = sa.attrs.f[0];
  if (sa.op == OpId::Dropout && !(p >= 0.0 && p < 1.0))
    sa.fail("probability must be in [0, 1), got " + std::to_string(p));
  if (sa.op == OpId::GaussianNoise && !(p >= 0.0))
    sa.fail("stddev must be non-negative, got " + std::to_string(p));
  return sa.s(0);
}

// y = x * mask, mask = 1/(1-p) with probability 1-p, else 0.
void dropout_fwd(const Ctx& c) {
  const double p = c.y.attrs.f[0];
  void* mask = scratch(c, c.n());
  c.y.attrs.aux = mask;
  c.be.random(Dist::Bernoulli, c.t(), mask, c.n(), 1.0 - p, 1.0 / (1.0 - p), c.g->seed(),
              c.g->take_random(uint64_t(c.n())));
  Bcast bc;
  bc.n = c.n();
  c.be.binary(Binary::Mul, c.t(), c.out(), c.x(0), mask, bc);
}
void dropout_bwd(const Ctx& c) {
  void* d = c.dx(0);
  if (!d) return;
  Bcast bc;
  bc.n = c.n();
  c.be.binary_grad(Binary::Mul, 0, c.t(), d, c.x(0), c.y.attrs.aux, c.out(), c.dy(), bc);
}

// y = x + noise, noise ~ N(0, stddev^2).
void noise_fwd(const Ctx& c) {
  c.be.random(Dist::Normal, c.t(), c.out(), c.n(), 0.0, c.y.attrs.f[0], c.g->seed(),
              c.g->take_random(uint64_t(c.n())));
  c.be.axpy(c.t(), c.out(), c.x(0), c.n(), 1.0);
}
void noise_bwd(const Ctx& c) {
  if (void* d = c.dx(0)) c.be.axpy(c.t(), d, c.dy(), c.n(), 1.0);
}

}  // namespace

void register_random(OpDef* t) {
  // y = x * mask / (1 - p);  dx += dy * mask / (1 - p)
  t[int(OpId::Dropout)] = {"dropout", "x", 1, 1, same_shape, dropout_fwd, dropout_bwd, BatchKind::Elementwise};
  // y = x + N(0, s^2);  dx += dy
  t[int(OpId::GaussianNoise)] = {"gaussian_noise", "x", 1, 1, same_shape, noise_fwd, noise_bwd, BatchKind::Elementwise};
}

}  // namespace flare::ops

namespace flare {

Expr dropout(const Expr& x, double p, bool training) {
  if (!training || p == 0.0) return x;
  Attrs a;
  a.f[0] = p;
  return x.graph().add(OpId::Dropout, {x}, a);
}

Expr gaussian_noise(const Expr& x, double stddev) {
  Attrs a;
  a.f[0] = stddev;
  return x.graph().add(OpId::GaussianNoise, {x}, a);
}

}  // namespace flare
