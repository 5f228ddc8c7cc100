// nn::run's whole-sequence input projection: eagerly, the cell's input projections for every
// step run as one affine over concat_batch(xs) and are read back with slice_batch. It must
// compute what stepping the cell one input at a time computes (values and gradients, both
// directions, LSTM and GRU), fall back to per-step projections where it cannot apply, and stay
// out of the way of the auto-batcher, which batches the per-step form across examples.
#include <gtest/gtest.h>

#include <memory>

#include "flare/autobatch.h"
#include "nn/nn_test_util.h"

namespace flare::nn {
namespace {

using testing::formula_tensor;

// Inputs as wide as the narrowest run() projects whole (narrower ones stay per step).
constexpr int64_t kIn = 64;

int count_op(const Graph& g, uint32_t from, OpId op) {
  int n = 0;
  for (uint32_t i = from; i < g.size(); ++i) n += g.node(i).op == op;
  return n;
}

std::unique_ptr<RecurrentCell> make_cell(Model& m, bool lstm) {
  if (lstm) return std::make_unique<LSTMCell>(m, kIn, 4);
  return std::make_unique<GRUCell>(m, kIn, 4);
}

// Runs the cell over T inputs [kIn]xB with run() (projected) or step by step, and returns the
// outputs, the final state, the inputs' gradients and the parameters' gradients of a loss that
// weighs every output differently.
struct Outcome {
  std::vector<std::vector<double>> outputs, input_grads, param_grads;
};
Outcome run_cell(Model& m, const RecurrentCell& cell, bool projected, bool reverse, int64_t B, Executor* ex = nullptr) {
  const int T = 5;
  m.zero_grad();
  Graph g;
  if (ex) g.set_executor(ex);
  std::vector<Expr> xs;
  for (int t = 0; t < T; ++t) xs.push_back(g.input(formula_tensor(10 + t, Shape({kIn}, B)), true));
  std::vector<Expr> hs(T);
  if (projected) {
    const uint32_t start = g.size();
    hs = run(cell, xs, {}, reverse).outputs;
    // Eagerly, run() took the projected path being compared (one read-back per step).
    if (!ex) {
      EXPECT_EQ(count_op(g, start, OpId::SliceBatch), T);
    }
  } else {
    CellParams p = cell.bind(g);
    RNNState s;
    for (int k = 0; k < T; ++k) {
      const int t = reverse ? T - 1 - k : k;
      s = cell.step(p, xs[size_t(t)], s);
      hs[size_t(t)] = s.h;
    }
  }
  std::vector<Expr> terms;
  for (int t = 0; t < T; ++t) terms.push_back(sum_batch(sum(hs[size_t(t)] * g.input(formula_tensor(40 + t, Shape({4}, B))))));
  g.backward(sum(terms));
  Outcome o;
  for (const Expr& h : hs) o.outputs.push_back(h.to_vector());
  for (const Expr& x : xs) o.input_grads.push_back(x.grad().to_vector());
  for (Parameter* p : m.parameters()) o.param_grads.push_back(p->grad().to_vector());
  return o;
}

void expect_same(const Outcome& a, const Outcome& b, double tol) {
  ASSERT_EQ(a.outputs.size(), b.outputs.size());
  for (size_t t = 0; t < a.outputs.size(); ++t) {
    SCOPED_TRACE("output " + std::to_string(t));
    testing::expect_near(a.outputs[t], b.outputs[t], tol);
  }
  for (size_t t = 0; t < a.input_grads.size(); ++t) {
    SCOPED_TRACE("gradient of input " + std::to_string(t));
    testing::expect_near(a.input_grads[t], b.input_grads[t], tol);
  }
  ASSERT_EQ(a.param_grads.size(), b.param_grads.size());
  for (size_t k = 0; k < a.param_grads.size(); ++k) {
    SCOPED_TRACE("gradient of parameter " + std::to_string(k));
    testing::expect_near(a.param_grads[k], b.param_grads[k], tol);
  }
}

TEST(SequenceProjection, RunMatchesSteppingTheCellForLSTMAndGRUBothWays) {
  for (bool lstm : {true, false})
    for (bool reverse : {false, true})
      for (int64_t B : {1, 3}) {
        SCOPED_TRACE(std::string(lstm ? "lstm" : "gru") + (reverse ? " reverse" : " forward") + " B=" + std::to_string(B));
        Model m(DType::f64);
        auto cell = make_cell(m, lstm);
        expect_same(run_cell(m, *cell, true, reverse, B), run_cell(m, *cell, false, reverse, B), 1e-12);
      }
}

TEST(SequenceProjection, EagerRunIsOneProjectionReadBackPerStep) {
  Model m;
  LSTMCell cell(m, kIn, 4);
  Graph g;
  std::vector<Expr> xs;
  for (int t = 0; t < 6; ++t) xs.push_back(g.input(formula_tensor(t, Shape({kIn}, 2), DType::f32)));
  const uint32_t start = g.size();
  run(cell, xs);
  EXPECT_EQ(count_op(g, start, OpId::ConcatBatch), 1);
  EXPECT_EQ(count_op(g, start, OpId::SliceBatch), 6);
  EXPECT_EQ(count_op(g, start, OpId::Affine), 1 + 5);  // the projection, then U h from step 2 on
  // The projection's product is [16, 64] x [64]x12: all 6 steps of 2 sequences at once.
  for (uint32_t i = start; i < g.size(); ++i)
    if (g.node(i).op == OpId::Affine) {
      EXPECT_EQ(g.node(i).shape, Shape({16}, 12));
      break;
    }
}

TEST(SequenceProjection, FallsBackToPerStepProjections) {
  Model m;
  LSTMCell cell(m, kIn, 4);
  {  // inputs of different batch sizes cannot be one batch
    Graph g;
    std::vector<Expr> xs{g.input(Tensor::zeros(Shape({kIn}, 2))), g.input(Tensor::zeros(Shape({kIn}, 1)))};
    const uint32_t start = g.size();
    run(cell, xs);
    EXPECT_EQ(count_op(g, start, OpId::SliceBatch), 0);
  }
  {  // a single step has nothing to merge
    Graph g;
    std::vector<Expr> xs{g.input(Tensor::zeros(Shape{kIn}))};
    const uint32_t start = g.size();
    run(cell, xs);
    EXPECT_EQ(count_op(g, start, OpId::SliceBatch), 0);
    EXPECT_EQ(count_op(g, start, OpId::ConcatBatch), 0);
  }
  {  // narrow inputs: the per-step products are cheaper than reading a projection back
    LSTMCell narrow(m, kIn - 1, 4, {}, "narrow");
    Graph g;
    std::vector<Expr> xs(5, g.input(Tensor::zeros(Shape{kIn - 1})));
    const uint32_t start = g.size();
    run(narrow, xs);
    EXPECT_EQ(count_op(g, start, OpId::SliceBatch), 0);
  }
}

TEST(SequenceProjection, AutoBatchingKeepsPerStepProjectionsAndTheSameResults) {
  for (bool lstm : {true, false}) {
    SCOPED_TRACE(lstm ? "lstm" : "gru");
    Model m(DType::f64);
    auto cell = make_cell(m, lstm);
    Autobatch ab;
    EXPECT_TRUE(ab.batches_examples());
    Graph g;
    g.set_executor(&ab);
    std::vector<Expr> xs;
    for (int t = 0; t < 4; ++t) xs.push_back(g.input(formula_tensor(t, Shape{kIn})));
    const uint32_t start = g.size();
    run(*cell, xs);
    EXPECT_EQ(count_op(g, start, OpId::SliceBatch), 0);
    EXPECT_EQ(count_op(g, start, OpId::ConcatBatch), 0);
    Autobatch ab2;
    expect_same(run_cell(m, *cell, true, false, 1, &ab2), run_cell(m, *cell, false, false, 1), 1e-12);
  }
}

}  // namespace
}  // namespace flare::nn
