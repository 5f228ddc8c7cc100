// Eager backward defers the rank-1 weight gradients of matrix-vector nodes and sums them per
// parameter at the end (ops/deferred_ger.h). The result must be bit-identical to applying them
// node by node, which is what a graph with anomaly checks on does, even when other ops write
// the same parameter's gradient in between.
#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <vector>

#include "flare/flare.h"

namespace flare {
namespace {

Tensor random_tensor(const Shape& s, std::mt19937& g) {
  std::uniform_real_distribution<double> u(-1, 1);
  std::vector<double> v(size_t(s.total()));
  for (double& x : v) x = u(g);
  return Tensor::from(s, v, DType::f32);
}

struct Params {
  Parameter W, U, b, V;
  explicit Params(std::mt19937& g)
      : W("W", random_tensor(Shape{12, 9}, g)),
        U("U", random_tensor(Shape{12, 12}, g)),
        b("b", random_tensor(Shape{12}, g)),
        V("V", random_tensor(Shape{5, 12}, g)) {}
  void zero() {
    for (Parameter* p : {&W, &U, &b, &V}) p->zero_grad();
  }
};

// An RNN over 6 steps whose loss also uses W and V outside affine nodes (an element-wise op on
// W halfway through the chain, matmul with V at every step), so their gradients get written
// directly between deferred rank-1 terms.
void run(Graph& g, Params& p, const std::vector<Tensor>& xs) {
  const Expr W = g.param(p.W), U = g.param(p.U), b = g.param(p.b), V = g.param(p.V);
  Expr h;
  std::vector<Expr> terms;
  for (size_t t = 0; t < xs.size(); ++t) {
    const Expr x = g.input(xs[t]);
    h = h.valid() ? tanh(affine({b, W, x, U, h})) : tanh(affine({b, W, x}));
    terms.push_back(sum(matmul(V, h)));
    if (t == 2) terms.push_back(sum(tanh(W)) * 0.25);
  }
  g.backward(sum(terms));
}

TEST(DeferredGer, EagerGradientsEqualNodeByNodeBitForBit) {
  std::mt19937 gen(3);
  Params p(gen);
  std::vector<Tensor> xs;
  for (int t = 0; t < 6; ++t) xs.push_back(random_tensor(Shape{9}, gen));

  Graph deferred;
  run(deferred, p, xs);
  const std::vector<double> w1 = p.W.grad().to_vector(), u1 = p.U.grad().to_vector(), b1 = p.b.grad().to_vector(),
                            v1 = p.V.grad().to_vector();
  p.zero();
  Graph checked;  // anomaly checks look at each gradient as its node runs: nothing is deferred
  checked.set_check_finite(true);
  run(checked, p, xs);
  EXPECT_EQ(p.W.grad().to_vector(), w1);
  EXPECT_EQ(p.U.grad().to_vector(), u1);
  EXPECT_EQ(p.b.grad().to_vector(), b1);
  EXPECT_EQ(p.V.grad().to_vector(), v1);
  // Not vacuous: W gets gradient.
  double nonzero = 0;
  for (double v : w1) nonzero += std::fabs(v);
  EXPECT_GT(nonzero, 0);
}

TEST(DeferredGer, GradientsAccumulateAcrossBackwardCalls) {
  std::mt19937 gen(5);
  Params p(gen);
  std::vector<Tensor> xs;
  for (int t = 0; t < 4; ++t) xs.push_back(random_tensor(Shape{9}, gen));
  Graph g;
  run(g, p, xs);
  const std::vector<double> once = p.W.grad().to_vector();
  g.clear();
  run(g, p, xs);
  const std::vector<double> twice = p.W.grad().to_vector();
  for (size_t i = 0; i < once.size(); ++i) EXPECT_NEAR(twice[i], 2 * once[i], 1e-5 * (1 + std::fabs(once[i])));
}

}  // namespace
}  // namespace flare
