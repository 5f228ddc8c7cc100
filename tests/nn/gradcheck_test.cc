// Gradients through every module, float64, against central finite differences over every
// parameter (inputs are parameters too, so input gradients are checked as well).
#include <gtest/gtest.h>

#include <deque>

#include "nn/nn_test_util.h"

namespace flare::nn {
namespace {

using testing::check_gradients;
using testing::formula_tensor;

// Inputs held as parameters (batched, so outside the model) so that their gradients are
// checked too.
struct Inputs {
  std::deque<Parameter> held;
  std::vector<Parameter*> all;
  Parameter& add(const std::string& name, int t, const Shape& s) {
    held.emplace_back("in/" + name, formula_tensor(t, s));
    all.push_back(&held.back());
    return held.back();
  }
};

#define EXPECT_GRADS_OK(r) EXPECT_TRUE((r).ok) << (r).detail << " (max error " << (r).max_error << ")"

TEST(NNGradcheck, LinearAndMLP) {
  Model m(DType::f64);
  Inputs in;
  Linear lin(m, 3, 4);
  LinearOptions nb;
  nb.bias = false;
  Linear nob(m, 3, 2, nb, "nobias");
  MLPOptions o;
  o.activation = Activation::elu;
  o.dropout = 0.3;  // active: the graph seed is fixed per rebuild
  MLP mlp(m, {3, 5, 4, 2}, o);
  Parameter& x = in.add("x", 1, Shape({3}, 2));
  auto r = check_gradients(m, [&](Graph& g) {
    Expr xe = g.param(x);
    return std::vector<Expr>{lin(xe), nob(xe), mlp(xe)};
  }, in.all);
  EXPECT_GRADS_OK(r);
  EXPECT_GT(r.checked, 60);
}

TEST(NNGradcheck, EmbeddingsDenseAndSparse) {
  Model m(DType::f64);
  Inputs in;
  Embedding dense(m, 6, 3, {}, "dense");
  EmbeddingOptions so;
  so.sparse = true;
  Embedding sparse(m, 5, 3, so, "sparse");
  auto r = check_gradients(m, [&](Graph& g) {
    std::vector<Expr> seq = sparse.sequence(g, std::vector<int32_t>{4, 1, 4});
    return std::vector<Expr>{dense.forward(g, std::vector<int32_t>{0, 2, 3, 4, 5, 1, 0}), dense.forward(g, 2),
                             seq[0] * seq[1] + seq[2], sparse.forward(g, std::vector<int32_t>{0, 2, 3})};
  }, in.all);
  EXPECT_GRADS_OK(r);
}

TEST(NNGradcheck, LSTMAndGRUCells) {
  Model m(DType::f64);
  Inputs in;
  LSTMCell lstm(m, 3, 2);
  GRUCell gru(m, 3, 2);
  Parameter& x = in.add("x", 2, Shape({3}, 2));
  Parameter& x2 = in.add("x2", 3, Shape({3}, 2));
  Parameter& h = in.add("h", 4, Shape({2}, 2));
  Parameter& c = in.add("c", 5, Shape({2}, 2));
  auto r = check_gradients(m, [&](Graph& g) {
    RNNState l1 = lstm(g.param(x), {g.param(h), g.param(c)});
    RNNState l2 = lstm(g.param(x2), l1);
    RNNState r1 = gru(g.param(x), {g.param(h), Expr()});
    RNNState r2 = gru(g.param(x2), r1);
    return std::vector<Expr>{l2.h, l2.c, r2.h};
  }, in.all);
  EXPECT_GRADS_OK(r);
}

TEST(NNGradcheck, ZeroStateCellsWithoutUnusedInputs) {
  Model m(DType::f64);
  Inputs in;
  LSTMCell lstm(m, 3, 2);
  GRUCell gru(m, 3, 2);
  Parameter& x = in.add("x", 2, Shape({3}, 2));
  auto r = check_gradients(m, [&](Graph& g) {
    RNNState l = lstm(g.param(x));
    RNNState l2 = lstm(g.param(x) * 0.5, l);
    RNNState r = gru(g.param(x));
    RNNState r2 = gru(g.param(x) * 0.5, r);
    return std::vector<Expr>{l2.h, l2.c, r2.h};
  }, in.all);
  EXPECT_GRADS_OK(r);
}

TEST(NNGradcheck, StackedBidirectionalRNNs) {
  for (CellType cell : {CellType::lstm, CellType::gru}) {
    Model m(DType::f64);
    Inputs in;
    RNNOptions o;
    o.cell = cell;
    o.layers = 2;
    o.direction = Direction::bidirectional;
    o.dropout = 0.2;
    RNN rnn(m, 2, 2, o);
    RNNOptions ro;
    ro.cell = cell;
    ro.direction = Direction::reverse;
    RNN rev(m, 2, 3, ro, "rev");
    std::vector<Parameter*> xs;
    for (int t = 0; t < 3; ++t) xs.push_back(&in.add("x" + std::to_string(t), 10 + t, Shape({2}, 2)));
    auto r = check_gradients(m, [&](Graph& g) {
      std::vector<Expr> seq;
      for (Parameter* p : xs) seq.push_back(g.param(*p));
      RNN::Result a = rnn(seq);
      RNN::Result b = rev(seq);
      std::vector<Expr> out = a.outputs;
      out.insert(out.end(), b.outputs.begin(), b.outputs.end());
      for (const RNNState& s : a.final) out.push_back(s.h);
      if (cell == CellType::lstm) out.push_back(a.final[3].c);
      return out;
    }, in.all);
    EXPECT_GRADS_OK(r);
  }
}

TEST(NNGradcheck, TreeLSTM) {
  Model m(DType::f64);
  Inputs in;
  TreeLSTM tree(m, 3, 2);
  Parameter& x0 = in.add("x0", 20, Shape({3}, 2));
  Parameter& x1 = in.add("x1", 21, Shape({3}, 2));
  Parameter& x2 = in.add("x2", 22, Shape({3}, 2));
  auto r = check_gradients(m, [&](Graph& g) {
    TreeLSTM::Params p = tree.bind(g);
    RNNState a = tree.node(p, tree.leaf(p, g.param(x0)), tree.leaf(p, g.param(x1)));
    RNNState unary = tree.node(p, tree.leaf(p, g.param(x2)), {});
    RNNState root = tree.node(p, a, unary);
    return std::vector<Expr>{root.h, root.c, a.h};
  }, in.all);
  EXPECT_GRADS_OK(r);
}

// The leaves of a tree as one batch (what encode() does eagerly), read back with pick_batch.
TEST(NNGradcheck, TreeLSTMLeavesAsOneBatch) {
  Model m(DType::f64);
  Inputs in;
  TreeLSTM tree(m, 3, 2);
  Parameter& x0 = in.add("x0", 20, Shape{3});
  Parameter& x1 = in.add("x1", 21, Shape{3});
  Parameter& x2 = in.add("x2", 22, Shape{3});
  auto r = check_gradients(m, [&](Graph& g) {
    TreeLSTM::Params p = tree.bind(g);
    std::vector<RNNState> l = tree.leaves(p, concat_batch({g.param(x0), g.param(x1), g.param(x2)}));
    RNNState a = tree.node(p, l[0], l[1]);
    RNNState root = tree.node(p, a, tree.node(p, l[2], {}));
    return std::vector<Expr>{root.h, root.c, l[1].c};
  }, in.all);
  EXPECT_GRADS_OK(r);
}

// Binary nodes of one level as one batch (what encode() does eagerly), read back with
// pick_batch.
TEST(NNGradcheck, TreeLSTMNodesAsOneBatch) {
  Model m(DType::f64);
  Inputs in;
  TreeLSTM tree(m, 3, 2);
  std::vector<Parameter*> x;
  for (int i = 0; i < 6; ++i) x.push_back(&in.add("x" + std::to_string(i), 30 + i, Shape{3}));
  auto r = check_gradients(m, [&](Graph& g) {
    TreeLSTM::Params p = tree.bind(g);
    std::vector<RNNState> l;
    for (Parameter* xi : x) l.push_back(tree.leaf(p, g.param(*xi)));
    std::vector<RNNState> level = tree.nodes(p, {l[0], l[2], l[4]}, {l[1], l[3], l[5]});
    RNNState root = tree.node(p, level[0], tree.nodes(p, {level[1]}, {level[2]})[0]);
    return std::vector<Expr>{root.h, root.c, level[2].h};
  }, in.all);
  EXPECT_GRADS_OK(r);
  Graph g;
  TreeLSTM::Params p = tree.bind(g);
  RNNState a = tree.leaf(p, g.param(*x[0]));
  EXPECT_THROW(tree.nodes(p, {a, a}, {a}), Error);
  EXPECT_THROW(tree.nodes(p, {a, a}, {a, RNNState{}}), Error);
}

}  // namespace
}  // namespace flare::nn
