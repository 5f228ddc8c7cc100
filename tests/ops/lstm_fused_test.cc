// The fused LSTM step (lstm_state, lstm_output) against the same step composed of element-wise
// ops, at sizes the registry samples do not reach: a hidden size of several groups of eight lanes
// and not a multiple of eight (the masked tail), a batch, and float32 (the vectorised path) as well
// as float64; the Tree-LSTM's layout with two previous states likewise. Also: each row of a batch
// is bit for bit what it is alone (what lets the auto-batcher merge steps), and the cell with a
// state shared by the batch.
#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "flare/flare.h"

namespace flare {
namespace {

constexpr int64_t kH = 300, kB = 3;

std::vector<double> uniform(size_t n, double lo, double hi, std::mt19937& gen) {
  std::uniform_real_distribution<double> u(lo, hi);
  std::vector<double> v(n);
  for (double& x : v) x = u(gen);
  return v;
}

struct Step {
  std::vector<double> c, h, dgates, dc;
};

// One step c' = sigmoid(f) c + sigmoid(i) tanh(g), h = sigmoid(o) tanh(c'), then the loss
// sum(w1 * h + w2 * c'), fused or composed; returns values and the gradients of gates and c.
Step run(bool fused, DType t, const std::vector<double>& a, const std::vector<double>& c0,
         const std::vector<double>& w1, const std::vector<double>& w2) {
  Graph g;
  Expr gates = g.input(Shape({4 * kH}, kB), a, t, true);
  Expr c = g.input(Shape({kH}, kB), c0, t, true);
  Expr cn, h;
  if (fused) {
    cn = lstm_state(gates, c);
    h = lstm_output(gates, cn);
  } else {
    Expr i = sigmoid(slice(gates, 0, 0, kH)), f = sigmoid(slice(gates, 0, kH, 2 * kH));
    Expr gg = tanh(slice(gates, 0, 2 * kH, 3 * kH)), o = sigmoid(slice(gates, 0, 3 * kH, 4 * kH));
    cn = f * c + i * gg;
    h = o * tanh(cn);
  }
  Expr loss = sum_batch(sum(h * g.input(Shape({kH}, kB), w1, t) + cn * g.input(Shape({kH}, kB), w2, t)));
  g.backward(loss);
  return {cn.value().to_vector(), h.value().to_vector(), gates.grad().to_vector(), c.grad().to_vector()};
}

void expect_near(const std::vector<double>& x, const std::vector<double>& y, double tol, const char* what) {
  ASSERT_EQ(x.size(), y.size()) << what;
  for (size_t k = 0; k < x.size(); ++k) ASSERT_NEAR(x[k], y[k], tol * (1 + std::abs(y[k]))) << what << " element " << k;
}

TEST(LstmFused, MatchesTheComposedStepWithAPartialGroupOfEight) {
  std::mt19937 gen(7);
  const auto a = uniform(size_t(4 * kH * kB), -4, 4, gen), c0 = uniform(size_t(kH * kB), -2, 2, gen);
  const auto w1 = uniform(size_t(kH * kB), -1, 1, gen), w2 = uniform(size_t(kH * kB), -1, 1, gen);
  for (DType t : {DType::f64, DType::f32}) {
    const double tol = t == DType::f64 ? 1e-13 : 2e-6;
    const Step f = run(true, t, a, c0, w1, w2), r = run(false, t, a, c0, w1, w2);
    expect_near(f.c, r.c, tol, "c'");
    expect_near(f.h, r.h, tol, "h");
    expect_near(f.dgates, r.dgates, tol, "d gates");
    expect_near(f.dc, r.dc, tol, "d c");
  }
}

// The Tree-LSTM's gates [i f_left f_right o u] with both children's states.
Step run_tree(bool fused, DType t, const std::vector<double>& a, const std::vector<double>& cl,
              const std::vector<double>& cr, const std::vector<double>& w1, const std::vector<double>& w2) {
  Graph g;
  Expr gates = g.input(Shape({5 * kH}, kB), a, t, true);
  Expr l = g.input(Shape({kH}, kB), cl, t, true), r = g.input(Shape({kH}, kB), cr, t, true);
  Expr cn, h;
  if (fused) {
    const LstmGates L{5, 0, 4, 3, {1, 2}};
    cn = lstm_state(gates, {l, r}, L);
    h = lstm_output(gates, cn, L);
  } else {
    auto block = [&](int k) { return slice(gates, 0, k * kH, (k + 1) * kH); };
    cn = sigmoid(block(1)) * l + sigmoid(block(2)) * r + sigmoid(block(0)) * tanh(block(4));
    h = sigmoid(block(3)) * tanh(cn);
  }
  Expr loss = sum_batch(sum(h * g.input(Shape({kH}, kB), w1, t) + cn * g.input(Shape({kH}, kB), w2, t)));
  g.backward(loss);
  // dc: both children's, one after the other.
  std::vector<double> dc = l.grad().to_vector(), dr = r.grad().to_vector();
  dc.insert(dc.end(), dr.begin(), dr.end());
  return {cn.value().to_vector(), h.value().to_vector(), gates.grad().to_vector(), dc};
}

TEST(LstmFused, TreeCellMatchesTheComposedStep) {
  std::mt19937 gen(10);
  const auto a = uniform(size_t(5 * kH * kB), -4, 4, gen);
  const auto cl = uniform(size_t(kH * kB), -2, 2, gen), cr = uniform(size_t(kH * kB), -2, 2, gen);
  const auto w1 = uniform(size_t(kH * kB), -1, 1, gen), w2 = uniform(size_t(kH * kB), -1, 1, gen);
  for (DType t : {DType::f64, DType::f32}) {
    const double tol = t == DType::f64 ? 1e-13 : 2e-6;
    const Step f = run_tree(true, t, a, cl, cr, w1, w2), r = run_tree(false, t, a, cl, cr, w1, w2);
    expect_near(f.c, r.c, tol, "c'");
    expect_near(f.h, r.h, tol, "h");
    expect_near(f.dgates, r.dgates, tol, "d gates");
    expect_near(f.dc, r.dc, tol, "d children's c");
  }
}

// A step over a batch computes each row exactly as a step over that row alone, values and
// gradients, for hidden sizes with and without a partial group of eight.
TEST(LstmFused, EachRowOfABatchIsItsOwnStepExactly) {
  std::mt19937 gen(11);
  for (int64_t h : {int64_t(13), int64_t(64), kH}) {
    SCOPED_TRACE("hidden " + std::to_string(h));
    const auto a = uniform(size_t(4 * h * kB), -4, 4, gen), c0 = uniform(size_t(h * kB), -2, 2, gen);
    const auto w = uniform(size_t(h * kB), -1, 1, gen);
    // Values of c' and h, then gradients of gates and c, of rows [b0, b0 + n).
    auto step = [&](int64_t b0, int64_t n) {
      Graph g;
      auto rows = [&](const std::vector<double>& v, int64_t width) {
        return std::vector<double>(v.begin() + b0 * width, v.begin() + (b0 + n) * width);
      };
      Expr gates = g.input(Shape({4 * h}, n), rows(a, 4 * h), DType::f32, true);
      Expr c = g.input(Shape({h}, n), rows(c0, h), DType::f32, true);
      Expr cn = lstm_state(gates, c), hn = lstm_output(gates, cn);
      g.backward(sum_batch(sum(hn * g.input(Shape({h}, n), rows(w, h), DType::f32) + cn)));
      std::vector<double> out = cn.value().to_vector();
      for (const Tensor& x : {hn.value(), gates.grad(), c.grad()}) {
        const std::vector<double> v = x.to_vector();
        out.insert(out.end(), v.begin(), v.end());
      }
      return out;
    };
    const std::vector<double> all = step(0, kB);
    std::vector<double> one_by_one(all.size());
    // Reassemble the per-row runs in the batched layout: four arrays of h, h, 4h, h per row.
    const int64_t widths[4] = {h, h, 4 * h, h};
    for (int64_t b = 0; b < kB; ++b) {
      const std::vector<double> one = step(b, 1);
      int64_t src = 0, dst = 0;
      for (int64_t w_ : widths) {
        std::copy(one.begin() + src, one.begin() + src + w_, one_by_one.begin() + dst + b * w_);
        src += w_, dst += w_ * kB;
      }
    }
    EXPECT_EQ(all, one_by_one);
  }
}

TEST(LstmFused, ZeroStateEqualsAnExplicitZeroState) {
  std::mt19937 gen(8);
  const auto a = uniform(size_t(4 * kH * kB), -3, 3, gen);
  Graph g;
  Expr gates = g.input(Shape({4 * kH}, kB), a, DType::f64);
  const std::vector<double> with = lstm_state(gates, g.input(Shape({kH}, kB), std::vector<double>(size_t(kH * kB), 0.0), DType::f64)).value().to_vector();
  const std::vector<double> without = lstm_state(gates).value().to_vector();
  EXPECT_EQ(with, without);
}

// A state of batch 1 with inputs of batch B broadcasts (the cell repeats it across the batch):
// each example's result is what it gets alone.
TEST(LstmFused, CellBroadcastsAStateSharedByTheBatch) {
  nn::Model m;
  nn::LSTMCell cell(m, 5, 4);
  std::mt19937 gen(9);
  const auto xs = uniform(size_t(5 * kB), -1, 1, gen), h0 = uniform(4, -1, 1, gen), c0 = uniform(4, -1, 1, gen);
  Graph g;
  const nn::CellParams p = cell.bind(g);
  const nn::RNNState s0{g.input(Shape{4}, h0, DType::f32), g.input(Shape{4}, c0, DType::f32)};
  const std::vector<double> batched = cell.step(p, g.input(Shape({5}, kB), xs, DType::f32), s0).h.value().to_vector();
  for (int64_t b = 0; b < kB; ++b) {
    const std::vector<double> x(xs.begin() + 5 * b, xs.begin() + 5 * (b + 1));
    const std::vector<double> one = cell.step(p, g.input(Shape{5}, x, DType::f32), s0).h.value().to_vector();
    for (int64_t j = 0; j < 4; ++j) EXPECT_NEAR(batched[size_t(4 * b + j)], one[size_t(j)], 1e-6);
  }
}

}  // namespace
}  // namespace flare
