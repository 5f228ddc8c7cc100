// Static graphs: feeding errors, memory planning (reuse, dropped nodes, no allocation after
// compile) and bit-identical values and gradients against the eager engine on hand-built
// models (logistic regression, an MLP with dropout, a fixed-length LSTM, embeddings).
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "exec/memory_plan.h"
#include "flare/flare.h"
#include "flare/static_graph.h"
#include "ops/deferred_ger.h"

namespace flare::ops {
// gtest prints calls as "{m x k: count terms}".
void PrintTo(const DeferredGerCall& c, std::ostream* os) {
  *os << "{" << c.m << " x " << c.k << ": " << c.count << " terms}";
}
}  // namespace flare::ops

namespace flare {
namespace {

// Deterministic values in [-scale, scale).
std::vector<float> pseudo_random(size_t n, uint32_t seed, float scale = 1.0f) {
  std::vector<float> v(n);
  uint32_t s = seed * 2654435761u + 12345u;
  for (float& x : v) {
    s = s * 1664525u + 1013904223u;
    x = scale * (float(s >> 8) / float(1u << 24) * 2.0f - 1.0f);
  }
  return v;
}

Parameter make_param(const std::string& name, const Shape& s, uint32_t seed, float scale = 0.3f) {
  return Parameter(name, Tensor::from(s, pseudo_random(size_t(s.total()), seed, scale)));
}

bool same_bits(const Tensor& a, const Tensor& b) {
  return a.shape() == b.shape() && a.dtype() == b.dtype() &&
         std::memcmp(a.data(), b.data(), a.bytes()) == 0;
}

std::string message_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no exception)";
}

// ---- The memory planner ----

TEST(MemoryPlan, ReusesMemoryOfBuffersThatAreNoLongerLive) {
  // a [0,1], b [1,2], c [2,3]: c may take a's place, b overlaps both.
  std::vector<exec::Lifetime> ls = {{0, 1, 100}, {1, 2, 100}, {2, 3, 100}};
  exec::MemoryPlan p = exec::plan_memory(ls);
  EXPECT_EQ(p.total, 256u);
  EXPECT_EQ(p.unshared, 384u);
  EXPECT_EQ(p.offset[0], p.offset[2]);
  EXPECT_NE(p.offset[0], p.offset[1]);
  exec::MemoryPlan none = exec::plan_memory(ls, false);
  EXPECT_EQ(none.total, 384u);
}

TEST(MemoryPlan, BuffersLiveAtTheSameStepNeverShare) {
  std::vector<exec::Lifetime> ls = {{0, 5, 64}, {5, 6, 640}, {3, 4, 64}, {7, 8, 1000}, {6, 9, 64}};
  exec::MemoryPlan p = exec::plan_memory(ls);
  for (size_t i = 0; i < ls.size(); ++i)
    for (size_t j = i + 1; j < ls.size(); ++j) {
      bool live_together = ls[i].first <= ls[j].last && ls[j].first <= ls[i].last;
      bool overlap = p.offset[i] < p.offset[j] + ls[j].bytes && p.offset[j] < p.offset[i] + ls[i].bytes;
      EXPECT_FALSE(live_together && overlap) << i << " and " << j;
    }
  EXPECT_LT(p.total, p.unshared);
}

// ---- Feeding ----

TEST(StaticGraph, FeedingTheWrongShapeNamesThePlaceholderAndBothShapes) {
  StaticGraph sg;
  Expr x = sg.placeholder("features", Shape({3}, 2));
  sg.compile({tanh(x)});
  std::string m = message_of([&] { sg.feed("features", Tensor::zeros(Shape{4})); });
  EXPECT_NE(m.find("'features'"), std::string::npos) << m;
  EXPECT_NE(m.find("[3]x2"), std::string::npos) << m;
  EXPECT_NE(m.find("[4]"), std::string::npos) << m;
  EXPECT_THROW(sg.feed("features", Tensor::zeros(Shape({3}, 3))), ShapeError);
  EXPECT_THROW(sg.feed("features", std::vector<float>(5)), ShapeError);
  m = message_of([&] { sg.feed("feature", Tensor::zeros(Shape({3}, 2))); });
  EXPECT_NE(m.find("'feature'"), std::string::npos) << m;
  EXPECT_NE(m.find("'features'"), std::string::npos) << m;  // lists the real ones
  EXPECT_NO_THROW(sg.feed("features", Tensor::zeros(Shape({3}, 2))));
}

TEST(StaticGraph, FeedingIndicesChecksCountAndRange) {
  StaticGraph sg;
  Expr x = sg.placeholder("x", Shape({5}, 2));
  IndexPlaceholder y = sg.index_placeholder("labels", 2);
  Expr loss = sum_batch(pick_neg_log_softmax(x, y));
  sg.compile({}, loss);
  EXPECT_THROW(sg.feed_indices("labels", {1}), ShapeError);
  std::string m = message_of([&] { sg.feed_indices("labels", {1, 5}); });
  EXPECT_NE(m.find("'labels'"), std::string::npos) << m;
  EXPECT_NE(m.find("[0, 5)"), std::string::npos) << m;
  EXPECT_THROW(sg.feed_indices("labels", {-1, 0}), IndexError);
  EXPECT_THROW(sg.feed_index("labels", 0), ShapeError);  // two ids declared
  EXPECT_THROW(sg.feed("labels", Tensor::zeros(Shape{2})), Error);
  EXPECT_THROW(sg.feed_indices("x", {0, 0}), Error);
  EXPECT_NO_THROW(sg.feed_indices("labels", {4, 0}));
}

TEST(StaticGraph, RecordingComputesNothing) {
  StaticGraph sg;
  Expr x = sg.placeholder("x", Shape{3});
  Expr y = tanh(x);
  EXPECT_THROW(y.value(), Error);
  EXPECT_THROW(sg.forward(), Error);  // not compiled
  EXPECT_THROW(sg.placeholder("x", Shape{2}), Error);  // name taken
}

// ---- Planning ----

TEST(StaticGraph, ForwardOnlyChainNeedsTwoBuffers) {
  // tanh^10 of a [1000] input: each value dies when the next is computed.
  StaticGraph sg;
  Expr x = sg.placeholder("x", Shape{1000});
  Expr y = x;
  for (int i = 0; i < 10; ++i) y = tanh(y);
  sg.compile({y});
  EXPECT_EQ(sg.stats().forward_nodes, 10u);
  EXPECT_EQ(sg.stats().unshared_bytes, 10u * 4032u);
  EXPECT_EQ(sg.stats().buffer_bytes, 2u * 4032u);

  std::vector<float> in = pseudo_random(1000, 1);
  sg.feed("x", in);
  sg.forward();
  Graph g;
  Expr e = g.input(Shape{1000}, in);
  for (int i = 0; i < 10; ++i) e = tanh(e);
  EXPECT_TRUE(same_bits(sg.value(y), e.value()));
}

TEST(StaticGraph, LivenessReuseShrinksTrainingBuffers) {
  Parameter W = make_param("W", Shape{64, 64}, 3, 0.2f);
  StaticGraph sg;
  Expr h = sg.placeholder("x", Shape{64});
  Expr w = sg.graph().param(W);
  for (int i = 0; i < 8; ++i) h = tanh(matmul(w, h));
  sg.compile({}, sum(h));
  EXPECT_LT(sg.stats().buffer_bytes, sg.stats().unshared_bytes * 3 / 4);
  EXPECT_EQ(sg.stats().backward_nodes, 17u);  // 8 matmul, 8 tanh, sum
}

TEST(StaticGraph, NodesTheOutputsDoNotNeedAreDropped) {
  StaticGraph sg;
  Expr x = sg.placeholder("x", Shape{4});
  Expr a = tanh(x);
  Expr b = exp(x) * 2.0;  // never asked for
  Expr c = sum(a);
  sg.compile({c});
  EXPECT_EQ(sg.stats().recorded_nodes, 5u);
  EXPECT_EQ(sg.stats().forward_nodes, 2u);  // tanh, sum
  sg.feed("x", std::vector<float>{0.f, 1.f, 2.f, 3.f});
  sg.forward();
  EXPECT_NEAR(sg.item(c), std::tanh(0.0) + std::tanh(1.0) + std::tanh(2.0) + std::tanh(3.0), 1e-6);
  EXPECT_THROW(sg.value(b), Error);  // dropped
  EXPECT_THROW(sg.value(a), Error);  // not an output: its memory may be reused
  EXPECT_EQ(sg.value(x).to_vector(), (std::vector<double>{0, 1, 2, 3}));
}

// A small classifier with dropout: affine -> relu -> dropout -> affine -> pick_neg_log_softmax.
struct Mlp {
  Parameter W1 = make_param("W1", Shape{16, 8}, 11);
  Parameter b1 = make_param("b1", Shape{16}, 12);
  Parameter W2 = make_param("W2", Shape{5, 16}, 13);
  Parameter b2 = make_param("b2", Shape{5}, 14);
  double p_drop = 0.0;

  template <typename Labels>
  Expr loss(Graph& g, const Expr& x, const Labels& y, Expr* scores = nullptr) {
    Expr h = dropout(relu(affine({g.param(b1), g.param(W1), x})), p_drop);
    Expr s = affine({g.param(b2), g.param(W2), h});
    if (scores) *scores = s;
    return sum_batch(pick_neg_log_softmax(s, y));
  }
  std::vector<Parameter*> params() { return {&W1, &b1, &W2, &b2}; }
};

TEST(StaticGraph, NoAllocationAfterCompile) {
  Mlp m;
  m.p_drop = 0.3;
  StaticGraph sg;
  Expr x = sg.placeholder("x", Shape({8}, 4));
  IndexPlaceholder y = sg.index_placeholder("y", 4);
  Expr scores;
  Expr loss = m.loss(sg.graph(), x, y, &scores);
  sg.compile({scores}, loss);
  const size_t held = sg.held_bytes();
  EXPECT_GT(sg.stats().scratch_bytes, 0u);  // dropout masks, log-softmax caches
  sg.feed("x", pseudo_random(32, 5));
  sg.feed_indices("y", {0, 1, 2, 3});
  sg.forward();
  const void* where = sg.value(scores).data();
  for (int run = 0; run < 20; ++run) {
    sg.feed("x", pseudo_random(32, uint32_t(6 + run)));
    sg.feed_indices("y", {run % 5, 4, 0, 2});
    sg.forward();
    sg.backward();
    EXPECT_EQ(sg.value(scores).data(), where);
  }
  EXPECT_EQ(sg.held_bytes(), held);
}

// ---- Same numbers as eager ----

// Trains the same model eagerly and statically side by side, one example per step with
// plain SGD, and checks that losses, scores and every gradient agree to the bit.
template <typename Model>
void expect_identical_training(Model& eager_model, Model& static_model, const Shape& x_shape,
                               int64_t n_labels, int64_t classes, int steps, uint64_t seed = 9) {
  StaticGraph sg;
  sg.graph().set_seed(seed);
  Expr x = sg.placeholder("x", x_shape);
  IndexPlaceholder y = sg.index_placeholder("y", n_labels);
  Expr scores;
  Expr loss = static_model.loss(sg.graph(), x, y, &scores);
  sg.compile({scores}, loss);

  Graph eg;
  eg.set_seed(seed);
  for (int step = 0; step < steps; ++step) {
    std::vector<float> xv = pseudo_random(size_t(x_shape.total()), uint32_t(100 + step), 2.0f);
    std::vector<int32_t> labels(static_cast<size_t>(n_labels));
    for (int64_t k = 0; k < n_labels; ++k) labels[size_t(k)] = int32_t((step * 3 + k) % classes);

    eg.clear();
    Expr es;
    Expr el = eager_model.loss(eg, eg.input(x_shape, xv), labels, &es);
    eg.backward(el);

    sg.feed("x", xv);
    sg.feed_indices(y, labels.data(), int64_t(labels.size()));
    sg.forward();
    sg.backward();

    ASSERT_TRUE(same_bits(sg.value(loss), el.value())) << "step " << step << ": loss "
                                                        << sg.item(loss) << " vs " << el.item();
    ASSERT_TRUE(same_bits(sg.value(scores), es.value())) << "step " << step;
    std::vector<Parameter*> pe = eager_model.params(), ps = static_model.params();
    for (size_t i = 0; i < pe.size(); ++i) {
      ASSERT_TRUE(same_bits(pe[i]->grad(), ps[i]->grad())) << "step " << step << ": " << pe[i]->name();
      // SGD, the same update on both copies.
      for (Parameter* p : {pe[i], ps[i]}) {
        float* v = p->value().template data<float>();
        const float* gr = p->grad().template data<float>();
        for (int64_t k = 0; k < p->shape().total(); ++k) v[k] -= 0.1f * gr[k];
        p->zero_grad();
      }
    }
  }
}

struct LogReg {
  Parameter W = make_param("W", Shape{1, 10}, 21);
  Parameter b = make_param("b", Shape{1}, 22);
  // Binary labels through log-sigmoid: the label is a float target in {0, 1}.
  template <typename Labels>
  Expr loss(Graph& g, const Expr& x, const Labels& y, Expr* scores) {
    Expr z = affine({g.param(b), g.param(W), x});
    *scores = z;
    Expr t = pick(g.input(Shape{2}, {0.f, 1.f}), y);  // label id -> target value
    return -sum_batch(sum(t * log_sigmoid(z) + (1.0 - t) * log_sigmoid(-z)));
  }
  std::vector<Parameter*> params() { return {&W, &b}; }
};

TEST(StaticGraph, LogisticRegressionMatchesEagerBitForBit) {
  LogReg a, b;
  expect_identical_training(a, b, Shape{10}, 1, 2, 12);
}

TEST(StaticGraph, MlpWithDropoutMatchesEagerBitForBit) {
  Mlp a, b;
  a.p_drop = b.p_drop = 0.25;
  expect_identical_training(a, b, Shape({8}, 3), 3, 5, 10);
}

// An LSTM over a fixed number of steps, gates from one affine per step (PyTorch's i, f, g, o).
struct Lstm {
  static constexpr int kSteps = 6, kIn = 4, kHidden = 8;
  Parameter W = make_param("W", Shape{4 * kHidden, kIn}, 31);
  Parameter U = make_param("U", Shape{4 * kHidden, kHidden}, 32);
  Parameter b = make_param("b", Shape{4 * kHidden}, 33);
  Parameter V = make_param("V", Shape{3, kHidden}, 34);
  Parameter c0 = make_param("c", Shape{3}, 35);

  template <typename Labels>
  Expr loss(Graph& g, const Expr& xs, const Labels& y, Expr* scores) {
    Expr w = g.param(W), u = g.param(U), bb = g.param(b);
    Expr h = g.constant(Shape{kHidden}, 0.0), c = g.constant(Shape{kHidden}, 0.0);
    for (int t = 0; t < kSteps; ++t) {
      Expr x = reshape(slice(xs, 0, t * kIn, (t + 1) * kIn), Shape{kIn});
      std::vector<Expr> gates = split(affine({bb, w, x, u, h}), 0, {kHidden, kHidden, kHidden, kHidden});
      c = sigmoid(gates[1]) * c + sigmoid(gates[0]) * tanh(gates[2]);
      h = sigmoid(gates[3]) * tanh(c);
    }
    *scores = affine({g.param(c0), g.param(V), h});
    return pick_neg_log_softmax(*scores, y);
  }
  std::vector<Parameter*> params() { return {&W, &U, &b, &V, &c0}; }
};

TEST(StaticGraph, FixedLengthLstmMatchesEagerBitForBit) {
  Lstm a, b;
  expect_identical_training(a, b, Shape{Lstm::kSteps * Lstm::kIn}, 1, 3, 8);
}

// An RNN whose weights are also written outside the products (tanh(W) halfway, matmul with V
// at every step), so the deferred rank-1 terms are applied between other gradient writes.
struct MixedRnn {
  static constexpr int kSteps = 5, kIn = 9, kHidden = 12;
  Parameter W = make_param("W", Shape{kHidden, kIn}, 51);
  Parameter U = make_param("U", Shape{kHidden, kHidden}, 52);
  Parameter b = make_param("b", Shape{kHidden}, 53);
  Parameter V = make_param("V", Shape{4, kHidden}, 54);

  template <typename Labels>
  Expr loss(Graph& g, const Expr& xs, const Labels& y, Expr* scores) {
    Expr w = g.param(W), u = g.param(U), bb = g.param(b), v = g.param(V);
    Expr h;
    std::vector<Expr> terms;
    for (int t = 0; t < kSteps; ++t) {
      Expr x = reshape(slice(xs, 0, t * kIn, (t + 1) * kIn), Shape{kIn});
      h = h.valid() ? tanh(affine({bb, w, x, u, h})) : tanh(affine({bb, w, x}));
      terms.push_back(sum(matmul(v, h)) * 0.1);
      if (t == 2) terms.push_back(sum(tanh(w)) * 0.25);
    }
    *scores = matmul(v, h);
    return pick_neg_log_softmax(*scores, y) + sum(terms);
  }
  std::vector<Parameter*> params() { return {&W, &U, &b, &V}; }
};

TEST(StaticGraph, RnnWhoseWeightsFeedOtherOpsMatchesEagerBitForBit) {
  MixedRnn a, b;
  expect_identical_training(a, b, Shape{MixedRnn::kSteps * MixedRnn::kIn}, 1, 4, 6);
}

// Bits alone cannot show on the CPU that both engines sum weight gradients the same way: its
// ger_batched rounds exactly like the rank-1 products it replaces, CUDA's does not. So the
// primitive calls are compared: eager and the plan must issue the same ger_batched calls (one
// per parameter and flush, the same number of terms), or the two diverge on a GPU.
template <typename Model>
std::vector<ops::DeferredGerCall> deferred_calls(Model& m, const Shape& x_shape, bool static_plan,
                                                 uint32_t* planned = nullptr) {
  std::vector<float> xv = pseudo_random(size_t(x_shape.total()), 77, 2.0f);
  std::vector<ops::DeferredGerCall> calls;
  if (static_plan) {
    StaticGraph sg;
    Expr x = sg.placeholder("x", x_shape);
    IndexPlaceholder y = sg.index_placeholder("y", 1);
    Expr scores;
    Expr loss = m.loss(sg.graph(), x, y, &scores);
    sg.compile({scores}, loss);  // the warm-up run inside issues none (it does not defer)
    if (planned) *planned = sg.stats().deferred_products;
    sg.feed("x", xv);
    sg.feed_indices("y", {1});
    sg.forward();
    ops::trace_deferred_gers(&calls);
    sg.backward();
  } else {
    Graph g;
    Expr scores;
    Expr loss = m.loss(g, g.input(x_shape, xv), std::vector<int32_t>{1}, &scores);
    ops::trace_deferred_gers(&calls);
    g.backward(loss);
  }
  ops::trace_deferred_gers(nullptr);
  return calls;
}

TEST(StaticGraph, BackwardSumsWeightGradientsThroughTheSameCallsAsEager) {
  using Call = ops::DeferredGerCall;
  Lstm lstm;
  const Shape lx{Lstm::kSteps * Lstm::kIn};
  uint32_t planned = 0;
  const std::vector<Call> eager = deferred_calls(lstm, lx, false);
  // V's one term (the classifier), then W's and U's six, one per step, in one call each.
  const std::vector<Call> expected = {{3, 8, 1}, {32, 4, 6}, {32, 8, 6}};
  EXPECT_EQ(eager, expected);
  EXPECT_EQ(deferred_calls(lstm, lx, true, &planned), expected);
  EXPECT_EQ(planned, 13u);

  // Flushes in the middle: tanh(W) at step 2 applies W's pending terms (steps 4 and 3) before
  // writing W's gradient; matmul(V, h) defers every step, so V's terms all wait to the end.
  MixedRnn rnn;
  const Shape rx{MixedRnn::kSteps * MixedRnn::kIn};
  const std::vector<Call> mixed = deferred_calls(rnn, rx, false);
  EXPECT_EQ(deferred_calls(rnn, rx, true), mixed);
  // W's two pending terms go first (at tanh(W)); the final flush then applies V's six (five
  // steps and the scores), U's four (steps 1 to 4) and W's remaining three.
  const std::vector<Call> mixed_expected = {{12, 9, 2}, {4, 12, 6}, {12, 12, 4}, {12, 9, 3}};
  EXPECT_EQ(mixed, mixed_expected);
}

// A bag of embeddings plus an input vector, classified by a matrix.
struct Bag {
  Parameter E = make_param("E", Shape{20, 6}, 41);
  Parameter W = make_param("W", Shape{4, 6}, 42);
  IndexPlaceholder* words = nullptr;
  std::vector<int32_t> word_ids;
  template <typename Labels>
  Expr loss(Graph& g, const Expr& x, const Labels& y, Expr* scores) {
    Expr bag = words ? lookup(g, E, *words) : lookup(g, E, word_ids);
    *scores = matmul(g.param(W), sum_batch(bag) + x);
    return pick_neg_log_softmax(*scores, y);
  }
  std::vector<Parameter*> params() { return {&E, &W}; }
};

TEST(StaticGraph, EmbeddingLookupsMatchEagerAndMarkTheSameRows) {
  Bag eager, stat;
  eager.E.set_sparse(true);
  stat.E.set_sparse(true);
  StaticGraph sg;
  Expr x = sg.placeholder("x", Shape{6});
  IndexPlaceholder words = sg.index_placeholder("words", 3);
  IndexPlaceholder y = sg.index_placeholder("y");
  stat.words = &words;
  Expr scores;
  Expr loss = stat.loss(sg.graph(), x, y, &scores);
  sg.compile({scores}, loss);
  EXPECT_TRUE(stat.E.touched_rows().empty());  // the warm-up run leaves no trace

  std::vector<float> xv = pseudo_random(6, 7);
  eager.word_ids = {3, 17, 3};
  Graph eg;
  Expr es;
  eg.backward(eager.loss(eg, eg.input(Shape{6}, xv), std::vector<int32_t>{2}, &es));

  EXPECT_THROW(sg.feed_indices("words", {3, 20, 1}), IndexError);  // the table has 20 rows
  sg.feed("x", xv);
  sg.feed_indices("words", {3, 17, 3});
  sg.feed_index("y", 2);
  sg.forward();
  sg.backward();
  EXPECT_TRUE(same_bits(sg.value(scores), es.value()));
  EXPECT_TRUE(same_bits(stat.E.grad(), eager.E.grad()));
  EXPECT_TRUE(same_bits(stat.W.grad(), eager.W.grad()));
  EXPECT_EQ(stat.E.touched_rows(), eager.E.touched_rows());
}

TEST(StaticGraph, InputGradientsMatchEager) {
  // d/dx sum(tanh(W x)) for an input created with requires_grad.
  Parameter W = make_param("W", Shape{3, 4}, 51);
  std::vector<float> xv = pseudo_random(4, 52);
  Graph eg;
  Expr ex = eg.input(Shape{4}, xv, true);
  eg.backward(sum(tanh(matmul(eg.param(W), ex))));
  Tensor eager_dW = W.grad().clone();
  W.zero_grad();

  StaticGraph sg;
  Expr sx = sg.graph().input(Shape{4}, xv, true);
  sg.compile({}, sum(tanh(matmul(sg.graph().param(W), sx))));
  sg.forward();
  sg.backward();
  EXPECT_TRUE(same_bits(sg.grad(sx), ex.grad()));
  EXPECT_TRUE(same_bits(W.grad(), eager_dW));
}

// ---- On a GPU ----

// The MLP with dropout and the LSTM, eager and static on CUDA: same bits (the plan runs the
// same device kernels in the same order; feeding copies host tensors to the device).
template <typename Model>
void expect_identical_on(Device dev, Model& eager_model, Model& static_model, const Shape& x_shape,
                         int64_t classes, int steps) {
  for (Parameter* p : eager_model.params()) p->to(dev);
  for (Parameter* p : static_model.params()) p->to(dev);
  const int64_t n_labels = x_shape.batch();
  StaticGraph sg(dev);
  sg.graph().set_seed(5);
  Expr x = sg.placeholder("x", x_shape);
  IndexPlaceholder y = sg.index_placeholder("y", n_labels);
  Expr scores;
  Expr loss = static_model.loss(sg.graph(), x, y, &scores);
  sg.compile({scores}, loss);
  Graph eg(dev);
  eg.set_seed(5);
  for (int step = 0; step < steps; ++step) {
    Tensor xv = Tensor::from(x_shape, pseudo_random(size_t(x_shape.total()), uint32_t(300 + step), 2.0f));
    std::vector<int32_t> labels;
    for (int64_t k = 0; k < n_labels; ++k) labels.push_back(int32_t((step + k) % classes));
    for (Parameter* p : eager_model.params()) p->zero_grad();
    for (Parameter* p : static_model.params()) p->zero_grad();
    eg.clear();
    Expr es;
    Expr el = eager_model.loss(eg, eg.input(xv.to(dev)), labels, &es);
    eg.backward(el);
    sg.feed("x", xv);
    sg.feed_indices("y", labels);
    sg.forward();
    sg.backward();
    ASSERT_EQ(sg.value(loss).to_vector(), el.value().to_vector()) << "step " << step;
    ASSERT_EQ(sg.value(scores).to_vector(), es.value().to_vector()) << "step " << step;
    std::vector<Parameter*> pe = eager_model.params(), ps = static_model.params();
    for (size_t i = 0; i < pe.size(); ++i)
      ASSERT_EQ(pe[i]->grad().to_vector(), ps[i]->grad().to_vector()) << "step " << step << ": " << pe[i]->name();
  }
}

TEST(StaticGraph, CudaRunsMatchEagerCudaBitForBit) {
  if (!device_available(Device::cuda())) GTEST_SKIP() << "no CUDA device available";
  Mlp a, b;
  a.p_drop = b.p_drop = 0.25;
  expect_identical_on(Device::cuda(), a, b, Shape({8}, 3), 5, 6);
  Lstm c, d;
  expect_identical_on(Device::cuda(), c, d, Shape{Lstm::kSteps * Lstm::kIn}, 3, 4);
}

// ---- Running: partial forward and misuse ----

TEST(StaticGraph, PartialForwardComputesOnlyWhatItsOutputsNeed) {
  Mlp m;
  StaticGraph sg;
  Expr x = sg.placeholder("x", Shape{8});
  IndexPlaceholder y = sg.index_placeholder("y");
  Expr scores;
  Expr loss = m.loss(sg.graph(), x, y, &scores);
  sg.compile({scores}, loss);
  std::vector<float> xv = pseudo_random(8, 61);
  sg.feed("x", xv);
  sg.forward({scores});
  Graph eg;
  Expr es;
  m.loss(eg, eg.input(Shape{8}, xv), std::vector<int32_t>{0}, &es);
  EXPECT_TRUE(same_bits(sg.value(scores), es.value()));
  EXPECT_THROW(sg.value(loss), Error);  // not computed by this forward
  EXPECT_THROW(sg.backward(), Error);   // nor is the loss
  EXPECT_THROW(sg.forward({tanh(x)}), Error);  // not an output of the plan
}

TEST(StaticGraph, BackwardRunsOncePerForwardAndNotAfterFeeding) {
  Mlp m;
  StaticGraph sg;
  Expr x = sg.placeholder("x", Shape{8});
  IndexPlaceholder y = sg.index_placeholder("y");
  Expr loss = m.loss(sg.graph(), x, y);
  sg.compile({}, loss);
  EXPECT_THROW(sg.backward(), Error);  // no forward yet
  sg.forward();
  sg.backward();
  EXPECT_THROW(sg.backward(), Error);
  sg.forward();
  sg.feed_index("y", 1);
  std::string msg = message_of([&] { sg.backward(); });
  EXPECT_NE(msg.find("'y'"), std::string::npos) << msg;
  // Nodes recorded after compile() need a new plan.
  tanh(x);
  EXPECT_THROW(sg.forward(), Error);
  sg.compile({}, loss);
  EXPECT_NO_THROW(sg.forward());
}

TEST(StaticGraph, LossMustBeAScalar) {
  StaticGraph sg;
  Expr x = sg.placeholder("x", Shape({3}, 2));
  EXPECT_THROW(sg.compile({}, tanh(x)), ShapeError);
}

}  // namespace
}  // namespace flare
