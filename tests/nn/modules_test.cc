// Module behaviour: shapes and batching, node counts, sparse embeddings, dropout modes,
// pre-trained embeddings, tree encoding, and errors that name what was wrong.
#include <gtest/gtest.h>

#include <cmath>
#include <map>

#include "flare/autobatch.h"
#include "flare/io/tree.h"
#include "io/io_test_util.h"
#include "nn/nn_test_util.h"

namespace flare::nn {
namespace {

using testing::expect_near;
using testing::formula_tensor;

// The batch columns of a [d]xB value.
std::vector<double> column(const Expr& e, int64_t b) {
  std::vector<double> v = e.to_vector();
  const int64_t d = e.shape().size();
  return std::vector<double>(v.begin() + b * d, v.begin() + (b + 1) * d);
}

TEST(Modules, BatchedSequencesMatchOneExampleAtATime) {
  Model m(DType::f64);
  RNNOptions o;
  o.layers = 2;
  o.direction = Direction::bidirectional;
  RNN rnn(m, 3, 4, o);
  const int T = 5, B = 3;
  Graph g;
  std::vector<Expr> batched;
  for (int t = 0; t < T; ++t) batched.push_back(g.input(formula_tensor(t, Shape({3}, B))));
  RNN::Result all = rnn(batched);
  ASSERT_EQ(all.outputs[0].shape(), Shape({8}, B));
  EXPECT_EQ(rnn.output_dim(), 8);
  for (int b = 0; b < B; ++b) {
    std::vector<Expr> one;
    for (int t = 0; t < T; ++t) one.push_back(g.input(formula_tensor(t, Shape({3}, B)).batch_item(b)));
    RNN::Result r = rnn(one);
    for (int t = 0; t < T; ++t) expect_near(r.outputs[size_t(t)].to_vector(), column(all.outputs[size_t(t)], b), 1e-12);
    for (size_t k = 0; k < r.final.size(); ++k) expect_near(r.final[k].c.to_vector(), column(all.final[k].c, b), 1e-12);
  }
}

TEST(Modules, RunDirectionsAndInitialStates) {
  Model m(DType::f64);
  GRUCell cell(m, 2, 3);
  Graph g;
  std::vector<Expr> xs;
  for (int t = 0; t < 4; ++t) xs.push_back(g.input(formula_tensor(30 + t, Shape{2})));
  SequenceResult f = run(cell, xs);
  // The forward outputs are the states step by step.
  RNNState s;
  for (int t = 0; t < 4; ++t) {
    s = cell(xs[size_t(t)], s);
    expect_near(f.outputs[size_t(t)].to_vector(), s.h.to_vector(), 1e-14);
  }
  expect_near(f.final.h.to_vector(), s.h.to_vector(), 1e-14);
  // Reverse reads the last position first; outputs stay in input order.
  SequenceResult r = run(cell, xs, {}, true);
  s = RNNState{};
  for (int t = 3; t >= 0; --t) {
    s = cell(xs[size_t(t)], s);
    expect_near(r.outputs[size_t(t)].to_vector(), s.h.to_vector(), 1e-14);
  }
  expect_near(r.final.h.to_vector(), r.outputs[0].to_vector(), 0);
  // Explicit zeros equal the implicit zero state.
  SequenceResult z = run(cell, xs, cell.zero_state(g));
  expect_near(z.final.h.to_vector(), f.final.h.to_vector(), 1e-14);
  // A given initial state is used.
  SequenceResult h0 = run(cell, xs, {g.input(formula_tensor(40, Shape{3})), Expr()});
  EXPECT_GT(std::fabs(h0.outputs[0].to_vector()[0] - f.outputs[0].to_vector()[0]), 1e-6);
  EXPECT_THROW(run(cell, {}), Error);
  // RNN initial states: one per cell.
  RNNOptions o;
  o.cell = CellType::gru;
  RNN rnn(m, 2, 3, o);
  EXPECT_THROW(rnn(xs, {RNNState{}, RNNState{}}), Error);
  EXPECT_THROW(rnn.cell(1), IndexError);
}

TEST(Modules, LSTMStepIsOneAffineAndFewNodes) {
  Model m;
  LSTMCell cell(m, 8, 16);
  Graph g;
  Expr x = g.input(Tensor::zeros(Shape({8}, 4)));
  CellParams p = cell.bind(g);
  RNNState s = cell.step(p, x, {});
  const uint32_t before = g.size();
  RNNState s2 = cell.step(p, x, s);
  const uint32_t per_step = g.size() - before;
  EXPECT_LE(per_step, 12u);
  int affines = 0;
  for (uint32_t i = before; i < g.size(); ++i) affines += g.node(i).op == OpId::Affine;
  EXPECT_EQ(affines, 1);
  EXPECT_EQ(s2.h.shape(), Shape({16}, 4));
  // A sequence binds the three parameters once.
  Graph g2;
  std::vector<Expr> xs(10, g2.input(Tensor::zeros(Shape{8})));
  const uint32_t start = g2.size();
  run(cell, xs);
  int params = 0;
  for (uint32_t i = start; i < g2.size(); ++i) params += g2.node(i).op == OpId::Param;
  EXPECT_EQ(params, 3);
  EXPECT_LE(g2.size() - start, 3u + 10u * 12u);  // inputs of 8: no whole-sequence projection
}

TEST(Modules, SparseEmbeddingTouchesOnlyUsedRows) {
  Model m;
  EmbeddingOptions o;
  o.sparse = true;
  Embedding e(m, 10, 3, o);
  EXPECT_TRUE(e.table().sparse());
  Graph g;
  Expr y = e.forward(g, std::vector<int32_t>{7, 2, 7});
  EXPECT_EQ(y.shape(), Shape({3}, 3));
  g.backward(sum_batch(sum(y)));
  EXPECT_EQ(e.table().touched_rows(), (std::vector<int32_t>{7, 2}));
  std::vector<double> grad = e.table().grad().to_vector();
  for (int r = 0; r < 10; ++r)
    for (int k = 0; k < 3; ++k) EXPECT_EQ(grad[size_t(r * 3 + k)], r == 7 ? 2.0 : r == 2 ? 1.0 : 0.0) << r;
  e.table().zero_grad();
  EXPECT_TRUE(e.table().touched_rows().empty());
  EXPECT_EQ(e.table().grad().to_vector(), std::vector<double>(30, 0.0));
  // Looked-up rows are the table's rows; batched sequences give one [d]xB node per position.
  std::vector<double> table = e.table().value().to_vector();
  std::vector<Expr> seq = e.sequence(g, std::vector<std::vector<int32_t>>{{1, 2}, {3, 4}});
  ASSERT_EQ(seq.size(), 2u);
  EXPECT_EQ(seq[1].shape(), Shape({3}, 2));
  expect_near(column(seq[1], 1), {table[12], table[13], table[14]}, 0);
  EXPECT_THROW(e.sequence(g, std::vector<std::vector<int32_t>>{{1, 2}, {3}}), Error);
  EXPECT_THROW(e.forward(g, 10), IndexError);
  Embedding dense(m, 4, 2, {}, "dense");
  EXPECT_FALSE(dense.table().sparse());
}

TEST(Modules, DropoutOnlyInTrainingMode) {
  Model m;
  Dropout drop(m, 0.5);
  MLPOptions o;
  o.dropout = 0.5;
  o.activation = Activation::relu;
  MLP mlp(m, {64, 64, 4}, o);
  Graph g;
  Expr x = g.input(Tensor::full(Shape({64}, 8), 1.0));
  Expr y = drop(x);
  int zeros = 0, twos = 0;
  for (double v : y.to_vector()) {
    zeros += v == 0.0;
    twos += v == 2.0;
  }
  EXPECT_EQ(zeros + twos, 512);
  EXPECT_GT(zeros, 180);
  EXPECT_GT(twos, 180);
  // Two training passes of the MLP differ; evaluation passes are equal and use no dropout node.
  EXPECT_NE(mlp(x).to_vector(), mlp(x).to_vector());
  drop.eval();
  mlp.eval();
  EXPECT_EQ(drop(x).id(), x.id());
  const uint32_t before = g.size();
  Expr e1 = mlp(x);
  for (uint32_t i = before; i < g.size(); ++i) EXPECT_NE(g.node(i).op, OpId::Dropout);
  EXPECT_EQ(e1.to_vector(), mlp(x).to_vector());
  EXPECT_THROW(Dropout(m, 1.0, "bad"), Error);
}

TEST(Modules, RNNDropoutBetweenLayersOnlyWhenTraining) {
  Model m;
  RNNOptions o;
  o.layers = 2;
  o.dropout = 0.5;
  RNN rnn(m, 4, 4, o);
  Graph g;
  std::vector<Expr> xs(3, g.input(Tensor::full(Shape{4}, 0.5)));
  auto count_dropout = [&](bool train) {
    rnn.train(train);
    const uint32_t before = g.size();
    rnn(xs);
    int n = 0;
    for (uint32_t i = before; i < g.size(); ++i) n += g.node(i).op == OpId::Dropout;
    return n;
  };
  EXPECT_EQ(count_dropout(true), 3);
  EXPECT_EQ(count_dropout(false), 0);
}

TEST(Modules, FixedEmbeddingFromGloVeText) {
  const std::string text = "the 1 2\ncat 3 4\nsat 0 -2\n";
  Model m;
  FixedEmbeddingOptions o;
  o.io.unknown = io::EmbeddingOptions::Unknown::mean;
  FixedEmbedding e(m, io::parse_embeddings(text, "vectors.txt", o.io), o);
  EXPECT_EQ(e.vocab().size(), 4);
  EXPECT_EQ(e.dim(), 2);
  EXPECT_EQ(e.found(), 3);
  EXPECT_FALSE(e.table().trainable());
  EXPECT_EQ(m.trainable_parameters().size(), 0u);
  EXPECT_EQ(e.table().name(), "pretrained/E");
  Graph g;
  EXPECT_EQ(e.forward(g, "cat").to_vector(), (std::vector<double>{3, 4}));
  expect_near(e.forward(g, "dog").to_vector(), {4.0 / 3, 4.0 / 3}, 1e-6);  // unknown: the mean
  // Frozen: a graph through it computes no gradient for the table.
  Linear lin(m, 2, 1);
  Expr loss = sum(lin(e.forward(g, "sat")));
  g.backward(loss);
  EXPECT_EQ(e.table().grad().to_vector(), std::vector<double>(8, 0.0));
  EXPECT_NE(lin.weight().grad().to_vector(), std::vector<double>(2, 0.0));
  // Normalised and fine-tunable.
  FixedEmbeddingOptions n;
  n.io.normalize = true;
  n.trainable = true;
  n.sparse = true;
  FixedEmbedding en(m, io::parse_embeddings(text, "vectors.txt", n.io), n, "tuned");
  expect_near(en.forward(g, "cat").to_vector(), {0.6, 0.8}, 1e-7);
  EXPECT_TRUE(en.table().trainable());
  EXPECT_TRUE(en.table().sparse());
}

TEST(Modules, FixedEmbeddingFileErrorsNameFileAndLine) {
  io::testing::TempDir dir;
  const std::string path = dir.file("bad_vectors.txt");
  io::testing::write_file(path, "a 1 2\nb 3\n");
  Model m;
  try {
    FixedEmbedding e(m, path);
    FAIL() << "expected an IoError";
  } catch (const IoError& err) {
    EXPECT_NE(std::string(err.what()).find(path + ":2"), std::string::npos) << err.what();
  }
  EXPECT_EQ(m.size(), 0u);
  EXPECT_EQ(m.current_scope(), "");
  EXPECT_THROW(FixedEmbedding(m, path + ".missing"), IoError);
}

TEST(Modules, TreeLSTMEncodesTreesBottomUp) {
  Model m(DType::f64);
  TreeLSTM tree(m, 3, 4);
  Embedding embed(m, 5, 3);
  io::Tree t = io::parse_tree("(3 (2 a) (4 (1 b) (2 (2 c))))");
  std::map<std::string, int32_t> ids{{"a", 1}, {"b", 2}, {"c", 3}};
  Graph g;
  int leaves = 0;
  std::vector<RNNState> states = tree.encode(g, t, [&](const io::Tree& leaf) {
    ++leaves;
    return embed.forward(g, ids.at(leaf.word));
  });
  EXPECT_EQ(leaves, 3);
  ASSERT_EQ(states.size(), size_t(t.size()));
  // By hand: post-order is a, b, c, (c), (b (c)), root.
  RNNState a = tree.leaf(embed.forward(g, 1)), b = tree.leaf(embed.forward(g, 2)), c = tree.leaf(embed.forward(g, 3));
  RNNState unary = tree.node(c, {});
  RNNState right = tree.node(b, unary);
  RNNState root = tree.node(a, right);
  expect_near(states.back().h.to_vector(), root.h.to_vector(), 1e-14);
  expect_near(states.back().c.to_vector(), root.c.to_vector(), 1e-14);
  expect_near(states[3].h.to_vector(), unary.h.to_vector(), 1e-14);
  EXPECT_THROW(tree.node(RNNState{}, RNNState{}), Error);
  EXPECT_THROW(tree.leaf(g.input(Tensor::zeros(Shape{2}, DType::f64))), ShapeError);

  // Eagerly the three leaves ran as one batch, read back per leaf; under the auto-batcher each
  // leaf is its own node (merged across trees), with the same states.
  auto count = [](const Graph& gr, OpId op) {
    int n = 0;
    for (uint32_t i = 0; i < gr.size(); ++i) n += gr.node(i).op == op;
    return n;
  };
  Graph eager;
  tree.encode(eager, t, [&](const io::Tree& leaf) { return embed.forward(eager, ids.at(leaf.word)); });
  EXPECT_EQ(count(eager, OpId::SliceBatch), 2 * 3);
  Autobatch ab;
  Graph lazy;
  lazy.set_executor(&ab);
  std::vector<RNNState> lazy_states =
      tree.encode(lazy, t, [&](const io::Tree& leaf) { return embed.forward(lazy, ids.at(leaf.word)); });
  EXPECT_EQ(count(lazy, OpId::SliceBatch), 0);
  expect_near(lazy_states.back().h.to_vector(), root.h.to_vector(), 1e-14);
}

// Eagerly, encode() runs a level's binary nodes as one batch (TreeLSTM::nodes): here the two
// inner nodes above the leaves, then the root. Values match node-by-node encoding; in float32
// at hidden 128 bit for bit (the few-vector kernels round as the one-vector ones), and the
// gradients to rounding (their rank-1 terms are summed in another order).
TEST(Modules, TreeLSTMRunsALevelAsOneBatch) {
  for (DType t : {DType::f64, DType::f32}) {
    SCOPED_TRACE(dtype_name(t));
    const int64_t hidden = t == DType::f64 ? 4 : 128;
    Model m(t);
    TreeLSTM tree(m, 3, hidden);
    Embedding embed(m, 5, 3);
    io::Tree tr = io::parse_tree("(1 (2 (1 a) (2 b)) (3 (1 c) (4 d)))");
    std::map<std::string, int32_t> ids{{"a", 1}, {"b", 2}, {"c", 3}, {"d", 4}};
    auto count = [](const Graph& gr, OpId op) {
      int n = 0;
      for (uint32_t i = 0; i < gr.size(); ++i) n += gr.node(i).op == op;
      return n;
    };
    auto grads = [&] {
      std::vector<std::vector<double>> out;
      for (Parameter* p : m.parameters()) {
        out.push_back(p->grad().to_vector());
        p->zero_grad();
      }
      return out;
    };
    Graph g;
    std::vector<RNNState> states =
        tree.encode(g, tr, [&](const io::Tree& leaf) { return embed.forward(g, ids.at(leaf.word)); });
    EXPECT_EQ(count(g, OpId::Affine), 3);  // the leaves, the level of two, the root
    g.backward(sum(states.back().h) + sum(states[2].c));
    const auto batched = grads();

    Graph h;
    TreeLSTM::Params p = tree.bind(h);
    auto leaf = [&](const char* w) { return tree.leaf(p, embed.forward(h, ids.at(w))); };
    RNNState left = tree.node(p, leaf("a"), leaf("b")), right = tree.node(p, leaf("c"), leaf("d"));
    RNNState root = tree.node(p, left, right);
    if (t == DType::f32) {
      EXPECT_EQ(states.back().h.to_vector(), root.h.to_vector());
      EXPECT_EQ(states[5].c.to_vector(), right.c.to_vector());
    } else {
      expect_near(states.back().h.to_vector(), root.h.to_vector(), 1e-14);
      expect_near(states[5].c.to_vector(), right.c.to_vector(), 1e-14);
    }
    h.backward(sum(root.h) + sum(left.c));
    const auto one_by_one = grads();
    for (size_t i = 0; i < batched.size(); ++i) expect_near(batched[i], one_by_one[i], t == DType::f32 ? 1e-5 : 1e-13);
  }
}

TEST(Modules, ShapeErrorsNameTheModule) {
  Model m;
  LSTMCell cell(m, 3, 2, {}, "enc");
  Linear lin(m, 3, 2);
  Graph g;
  try {
    cell(g.input(Tensor::zeros(Shape({4}, 2))));
    FAIL();
  } catch (const ShapeError& e) {
    EXPECT_NE(std::string(e.what()).find("enc"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("[4]x2"), std::string::npos) << e.what();
  }
  EXPECT_THROW(lin(g.input(Tensor::zeros(Shape{4}))), ShapeError);
  EXPECT_THROW(Linear(m, 0, 2, {}, "zero"), Error);
  EXPECT_THROW(MLP(m, {3}, {}, "short"), Error);
  EXPECT_THROW(LSTMCell(m, 3, 0, {}, "empty"), Error);
}

}  // namespace
}  // namespace flare::nn
