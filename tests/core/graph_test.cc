// Hand-computed cases for the graph engine: the original flare README's example, eager values,
// gradients of nodes used twice, batch broadcasting, large-input softmax, memory reuse.
#include <gtest/gtest.h>

#include <cmath>

#include "flare/flare.h"

namespace flare {
namespace {

TEST(Graph, ReadmeExampleIsEager) {
  Graph g;
  Expr x = g.input(Shape{2}, {2, 3});
  Expr y = g.input(Shape{2}, {3, 4});
  Expr z = x + y;
  EXPECT_EQ(z.to_vector(), (std::vector<double>{5, 7}));
  EXPECT_EQ(z.shape(), Shape{2});
}

TEST(Graph, NodeUsedTwiceGetsGradientOncePerUse) {
  // y = x*x + x at x = 3: dy/dx = 2x + 1 = 7, exactly.
  Parameter p("x", Tensor::from(Shape{}, {3.0f}));
  Graph g;
  Expr x = g.param(p);
  Expr y = x * x + x;
  EXPECT_EQ(y.item(), 12.0);
  g.backward(y);
  EXPECT_EQ(p.grad().item(), 7.0);
  // A second graph accumulates into the same parameter gradient.
  g.clear();
  Expr x2 = g.param(p);
  g.backward(x2 + x2 + x2);
  EXPECT_EQ(p.grad().item(), 10.0);
  p.zero_grad();
  EXPECT_EQ(p.grad().item(), 0.0);
}

TEST(Graph, BroadcastOverTheBatch) {
  // A batch-1 bias added to a batch of 3 gets the sum of the 3 gradients.
  Parameter b("b", Tensor::from(Shape{2}, {1.0f, 2.0f}));
  Graph g;
  Expr x = g.input(Shape({2}, 3), {1, 2, 3, 4, 5, 6});
  Expr y = x + g.param(b);
  EXPECT_EQ(y.shape(), Shape({2}, 3));
  EXPECT_EQ(y.to_vector(), (std::vector<double>{2, 4, 4, 6, 6, 8}));
  // loss = sum over batch of sum(y * w) with w = [1, 10]: db = 3 * w.
  Expr w = g.input(Shape{2}, {1, 10});
  g.backward(sum_batch(sum(y * w)));
  EXPECT_EQ(b.grad().to_vector(), (std::vector<double>{3, 30}));
}

TEST(Graph, SoftmaxIsStableAtLargeInputs) {
  Graph g;
  Expr x = g.input(Shape{3}, {1000.0f, 1001.0f, 1002.0f});
  std::vector<double> s = softmax(x).to_vector();
  double z = 1 + std::exp(1.0) + std::exp(2.0);
  EXPECT_NEAR(s[0], 1 / z, 1e-6);
  EXPECT_NEAR(s[2], std::exp(2.0) / z, 1e-6);
  std::vector<double> ls = log_softmax(x).to_vector();
  EXPECT_NEAR(ls[0], -std::log(z), 1e-4);  // float32 ulp at 1000 is 6e-5
  EXPECT_NEAR(logsumexp(x).item(), 1000 + std::log(z), 1e-3);
  // -log softmax at -1000 scale: no overflow, no NaN.
  Expr y = g.input(Shape{2}, {-1000.0f, 1000.0f});
  EXPECT_NEAR(pick_neg_log_softmax(y, 0).item(), 2000.0, 1e-3);
  EXPECT_NEAR(sigmoid(g.input(Shape{2}, {-100.0f, 100.0f})).to_vector()[1], 1.0, 1e-7);
}

TEST(Graph, PickNegLogSoftmaxHandComputed) {
  Parameter p("s", Tensor::from(Shape{3}, {1.0f, 2.0f, 3.0f}));
  Graph g;
  Expr loss = pick_neg_log_softmax(g.param(p), 0);
  double z = std::exp(1.0) + std::exp(2.0) + std::exp(3.0);
  EXPECT_NEAR(loss.item(), -std::log(std::exp(1.0) / z), 1e-6);
  g.backward(loss);
  std::vector<double> gr = p.grad().to_vector();
  EXPECT_NEAR(gr[0], std::exp(1.0) / z - 1, 1e-6);
  EXPECT_NEAR(gr[1], std::exp(2.0) / z, 1e-6);
}

TEST(Graph, BackwardFromNonScalarSaysSo) {
  Graph g;
  Expr x = g.input(Shape{3}, {1, 2, 3}, true);
  try {
    g.backward(tanh(x));
    FAIL() << "no error";
  } catch (const ShapeError& e) {
    EXPECT_NE(std::string(e.what()).find("backward: the loss must be a scalar, got shape [3]"), std::string::npos) << e.what();
  }
  Expr xb = g.input(Shape({}, 4), {1, 2, 3, 4}, true);
  EXPECT_THROW(g.backward(xb * 2.0), ShapeError);
  g.backward(sum_batch(xb * 2.0));
  EXPECT_EQ(xb.grad().to_vector(), (std::vector<double>{2, 2, 2, 2}));
}

TEST(Graph, ClearKeepsMemory) {
  Parameter w("W", Tensor::full(Shape{32, 32}, 0.01));
  Graph g;
  auto build = [&] {
    Expr y = g.input(Tensor::full(Shape{32}, 0.5));
    for (int i = 0; i < 200; ++i) y = tanh(matmul(g.param(w), y));
    g.backward(sum(y));
  };
  build();
  size_t cap = g.arena_capacity();
  for (int k = 0; k < 20; ++k) {
    g.clear();
    build();
  }
  EXPECT_EQ(g.arena_capacity(), cap);
  EXPECT_EQ(g.size(), 1u + 200 * 3 + 1);
}

TEST(Graph, InputGradientAndErrors) {
  Graph g;
  Expr x = g.input(Shape{2}, {1, 2}, true);
  g.backward(sum(square(x)));
  EXPECT_EQ(x.grad().to_vector(), (std::vector<double>{2, 4}));
  Expr c = g.input(Shape{2}, {1, 2});
  g.backward(sum(c * x));
  EXPECT_THROW(c.grad(), Error);
  Graph other;
  Expr o = other.input(Shape{2}, {1, 2});
  EXPECT_THROW(x + o, Error);
  EXPECT_THROW(g.input(Shape{3}, {1, 2}), ShapeError);
}

TEST(Graph, SparseParameterRecordsRows) {
  Parameter e("E", Tensor::full(Shape{5, 2}, 1.0));
  e.set_sparse(true);
  Graph g;
  Expr v = lookup(g, e, {3, 1, 3});
  g.backward(sum_batch(sum(v)));
  EXPECT_EQ(e.touched_rows(), (std::vector<int32_t>{3, 1}));
  EXPECT_EQ(e.grad().to_vector(), (std::vector<double>{0, 0, 1, 1, 0, 0, 2, 2, 0, 0}));
  e.zero_grad();
  EXPECT_TRUE(e.touched_rows().empty());
  EXPECT_EQ(e.grad().to_vector(), std::vector<double>(10, 0.0));
}

TEST(Graph, FrozenParameterGetsNoGradient) {
  Parameter e("E", Tensor::full(Shape{3, 2}, 1.0), /*trainable=*/false);
  Parameter w("w", Tensor::full(Shape{2}, 2.0));
  Graph g;
  Expr loss = sum(lookup(g, e, 1) * g.param(w));
  g.backward(loss);
  EXPECT_EQ(e.grad().to_vector(), std::vector<double>(6, 0.0));
  EXPECT_EQ(w.grad().to_vector(), (std::vector<double>{1, 1}));
}

TEST(Graph, AnomalyDetectionNamesTheOp) {
  Graph g;
  g.set_check_finite(true);
  Expr x = g.input(Shape{2}, {1, -1});
  try {
    log(x);
    FAIL() << "no error";
  } catch (const AnomalyError& e) {
    EXPECT_NE(std::string(e.what()).find("non-finite value from node 1 (log, shape [2]); inputs: input#0=[2]"),
              std::string::npos) << e.what();
  }
}

TEST(Graph, DropoutIsSeededAndInverted) {
  Graph g1, g2;
  g1.set_seed(7);
  g2.set_seed(7);
  Expr a = dropout(g1.input(Tensor::full(Shape{1000}, 1.0)), 0.25);
  Expr b = dropout(g2.input(Tensor::full(Shape{1000}, 1.0)), 0.25);
  EXPECT_EQ(a.to_vector(), b.to_vector());
  int kept = 0;
  for (double v : a.to_vector()) {
    EXPECT_TRUE(v == 0.0 || std::fabs(v - 1 / 0.75) < 1e-6);
    kept += v != 0.0;
  }
  EXPECT_NEAR(kept, 750, 60);
  Expr same = dropout(a, 0.5, /*training=*/false);
  EXPECT_EQ(same.id(), a.id());
}

}  // namespace
}  // namespace flare
