// Static graphs built from flare::nn modules give bit-identical values, gradients and Adam
// updates to the eager runs of the same modules: Linear, MLP with dropout, Embedding (sparse,
// lazy Adam), LSTM and GRU cells over a fixed length, a stacked bidirectional RNN, and a
// Kim-style convolutional classifier (Conv1d, pooling over time, dropout).
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "flare/conv.h"
#include "flare/flare.h"
#include "flare/nn/nn.h"
#include "flare/optim.h"
#include "flare/static_graph.h"

namespace flare {
namespace {

std::vector<float> pseudo_random(size_t n, uint32_t seed) {
  std::vector<float> v(n);
  uint32_t s = seed * 2654435761u + 7u;
  for (float& x : v) {
    s = s * 1664525u + 1013904223u;
    x = float(s >> 8) / float(1u << 23) - 1.0f;
  }
  return v;
}

bool same_bits(const Tensor& a, const Tensor& b) {
  return a.shape() == b.shape() && a.dtype() == b.dtype() &&
         std::memcmp(a.data(), b.data(), a.bytes()) == 0;
}

// The embedding module reads std::vector ids; in a static graph its table is read through an
// index placeholder.
Expr embed(const nn::Embedding& e, Graph& g, const std::vector<int32_t>& ids) { return e.forward(g, ids); }
Expr embed(const nn::Embedding& e, Graph& g, const IndexPlaceholder& ids) { return lookup(g, e.table(), ids); }

struct Task {
  std::vector<Shape> inputs;  // float inputs, fed anew each step
  int64_t labels = 1, classes = 3;
  int64_t words = 0, vocab = 1;  // ids for an embedding, when words > 0
  int steps = 6;
};

// Builds Net twice from the same seed, trains one copy eagerly and one statically with Adam,
// and requires identical bits in the loss, the scores, every gradient and every updated value.
template <typename Net>
void expect_static_matches_eager(const Task& task) {
  manual_seed(3);
  Net en;
  manual_seed(3);
  Net sn;
  optim::Adam eopt(en.m.parameters()), sopt(sn.m.parameters());

  StaticGraph sg;
  sg.graph().set_seed(77);
  std::vector<Expr> xs;
  for (size_t i = 0; i < task.inputs.size(); ++i) xs.push_back(sg.placeholder("x" + std::to_string(i), task.inputs[i]));
  IndexPlaceholder y = sg.index_placeholder("y", task.labels);
  IndexPlaceholder w = task.words ? sg.index_placeholder("words", task.words) : IndexPlaceholder();
  Expr scores;
  Expr loss = sn.loss(sg.graph(), xs, y, w, &scores);
  sg.compile({scores}, loss);

  Graph eg;
  eg.set_seed(77);
  for (int step = 0; step < task.steps; ++step) {
    std::vector<std::vector<float>> xv;
    for (size_t i = 0; i < task.inputs.size(); ++i)
      xv.push_back(pseudo_random(size_t(task.inputs[i].total()), uint32_t(step * 31 + i)));
    std::vector<int32_t> labels, words;
    for (int64_t k = 0; k < task.labels; ++k) labels.push_back(int32_t((step + 2 * k) % task.classes));
    for (int64_t k = 0; k < task.words; ++k) words.push_back(int32_t((step * 7 + k * 5) % task.vocab));

    eg.clear();
    std::vector<Expr> exs;
    for (size_t i = 0; i < xv.size(); ++i) exs.push_back(eg.input(task.inputs[i], xv[i]));
    Expr es;
    Expr el = en.loss(eg, exs, labels, words, &es);
    eopt.zero_grad();
    eg.backward(el);
    eopt.step();

    for (size_t i = 0; i < xv.size(); ++i) sg.feed(xs[i], Tensor::view(xv[i].data(), task.inputs[i], DType::f32));
    sg.feed_indices(y, labels.data(), int64_t(labels.size()));
    if (task.words) sg.feed_indices(w, words.data(), int64_t(words.size()));
    sopt.zero_grad();
    sg.forward();
    sg.backward();
    sopt.step();

    ASSERT_TRUE(same_bits(sg.value(loss), el.value())) << "step " << step << ": " << sg.item(loss) << " vs " << el.item();
    ASSERT_TRUE(same_bits(sg.value(scores), es.value())) << "step " << step;
    std::vector<Parameter*> pe = en.m.parameters(), ps = sn.m.parameters();
    ASSERT_EQ(pe.size(), ps.size());
    for (size_t i = 0; i < pe.size(); ++i) {
      ASSERT_TRUE(same_bits(pe[i]->grad(), ps[i]->grad())) << "step " << step << ": grad of " << pe[i]->name();
      ASSERT_TRUE(same_bits(pe[i]->value(), ps[i]->value())) << "step " << step << ": " << pe[i]->name();
    }
  }
}

struct LinearNet {
  nn::Model m;
  nn::Linear lin{m, 10, 4};
  template <typename L, typename W>
  Expr loss(Graph&, const std::vector<Expr>& x, const L& y, const W&, Expr* scores) {
    *scores = lin(x[0]);
    return sum_batch(pick_neg_log_softmax(*scores, y));
  }
};

TEST(StaticNn, LinearMatchesEager) { expect_static_matches_eager<LinearNet>({{Shape({10}, 2)}, 2, 4}); }

struct MlpNet {
  nn::Model m;
  nn::MLP mlp{m, {10, 16, 16, 4}, [] {
                nn::MLPOptions o;
                o.activation = nn::Activation::relu;
                o.dropout = 0.2;
                return o;
              }()};
  template <typename L, typename W>
  Expr loss(Graph&, const std::vector<Expr>& x, const L& y, const W&, Expr* scores) {
    *scores = mlp(x[0]);
    return sum_batch(pick_neg_log_softmax(*scores, y));
  }
};

TEST(StaticNn, MlpWithDropoutMatchesEager) { expect_static_matches_eager<MlpNet>({{Shape({10}, 3)}, 3, 4}); }

struct EmbeddingNet {
  nn::Model m;
  nn::Embedding emb{m, 30, 8, [] {
                      nn::EmbeddingOptions o;
                      o.sparse = true;
                      return o;
                    }()};
  nn::Linear out{m, 8, 5};
  template <typename L, typename W>
  Expr loss(Graph& g, const std::vector<Expr>&, const L& y, const W& words, Expr* scores) {
    *scores = out(tanh(sum_batch(embed(emb, g, words))));
    return pick_neg_log_softmax(*scores, y);
  }
};

TEST(StaticNn, SparseEmbeddingMatchesEager) {
  Task t;
  t.classes = 5;
  t.words = 4;
  t.vocab = 30;
  expect_static_matches_eager<EmbeddingNet>(t);
}

template <typename Cell>
struct CellNet {
  static constexpr int kSteps = 7;
  nn::Model m;
  Cell cell{m, 5, 8};
  nn::Linear out{m, 8, 3};
  template <typename L, typename W>
  Expr loss(Graph&, const std::vector<Expr>& xs, const L& y, const W&, Expr* scores) {
    *scores = out(nn::run(cell, xs).final.h);
    return sum_batch(pick_neg_log_softmax(*scores, y));
  }
};

TEST(StaticNn, FixedLengthLstmMatchesEager) {
  Task t;
  t.inputs.assign(CellNet<nn::LSTMCell>::kSteps, Shape({5}, 2));
  t.labels = 2;
  expect_static_matches_eager<CellNet<nn::LSTMCell>>(t);
}

TEST(StaticNn, FixedLengthGruMatchesEager) {
  Task t;
  t.inputs.assign(CellNet<nn::GRUCell>::kSteps, Shape{5});
  expect_static_matches_eager<CellNet<nn::GRUCell>>(t);
}

struct BiRnnNet {
  nn::Model m;
  nn::RNN rnn{m, 5, 6, [] {
                nn::RNNOptions o;
                o.layers = 2;
                o.direction = nn::Direction::bidirectional;
                o.dropout = 0.3;
                return o;
              }()};
  nn::Linear out{m, 12, 3};
  template <typename L, typename W>
  Expr loss(Graph&, const std::vector<Expr>& xs, const L& y, const W&, Expr* scores) {
    std::vector<Expr> per_position = rnn(xs).outputs;
    std::vector<Expr> losses;
    for (const Expr& h : per_position) losses.push_back(pick_neg_log_softmax(out(h), y));
    *scores = out(per_position.back());
    return sum(losses);
  }
};

TEST(StaticNn, StackedBidirectionalRnnMatchesEager) {
  Task t;
  t.inputs.assign(5, Shape{5});
  expect_static_matches_eager<BiRnnNet>(t);
}

// Two convolution widths over an [8 channels, 12 steps] input, ReLU, max and 2-max pooling
// over time, dropout, a linear layer: the CNN example's structure at a small size.
struct CnnNet {
  static inline const nn::Conv1dOptions kDefaults{};
  nn::Model m;
  nn::Conv1d c3{m, 8, 5, 3, kDefaults, "c3"};
  nn::Conv1d c4{m, 8, 5, 4, kDefaults, "c4"};
  nn::Linear out{m, 15, 3};
  template <typename L, typename W>
  Expr loss(Graph&, const std::vector<Expr>& x, const L& y, const W&, Expr* scores) {
    Expr h3 = max_over_time(relu(c3(x[0])));
    Expr h4 = reshape(kmax_pool(relu(c4(x[0])), 2), Shape{10});
    *scores = out(dropout(concat({h3, h4}), 0.5));
    return sum_batch(pick_neg_log_softmax(*scores, y));
  }
};

TEST(StaticNn, ConvolutionalClassifierMatchesEager) {
  expect_static_matches_eager<CnnNet>({{Shape({8, 12}, 2)}, 2, 3});
}

}  // namespace
}  // namespace flare
