// Several threads, each with its own graphs, over one shared model: inference gives the
// one-thread results bit for bit, and training with a GradientBuffer per thread (summed in
// buffer order) gives the same bits as running those buffers one after another, on every run.
// The suite also runs under ThreadSanitizer (make sanitize SANITIZE=thread), which checks that
// nothing here races.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <thread>
#include <vector>

#include "flare/flare.h"
#include "flare/gradient_buffer.h"
#include "flare/nn/nn.h"
#include "flare/optim/adam.h"

namespace {
using namespace flare;

constexpr int kThreads = 4;
constexpr int kVocab = 40, kDim = 8, kHidden = 16, kClasses = 5;

struct Example {
  std::vector<int32_t> ids;
  int32_t label;
};

std::vector<Example> make_examples(int n) {
  std::vector<Example> out;
  for (int i = 0; i < n; ++i)
    out.push_back({{int32_t(i % kVocab), int32_t((7 * i + 3) % kVocab), int32_t((i * i) % kVocab)},
                   int32_t(i % kClasses)});
  return out;
}

// A bag-of-words classifier with a sparse embedding table: sum of rows, tanh layer, output layer.
struct Net {
  nn::Model model;
  nn::Embedding embed{model, kVocab, kDim, nn::EmbeddingOptions{true, {}}};
  nn::Linear hidden{model, kDim, kHidden, {}, "hidden"};
  nn::Linear out{model, kHidden, kClasses, {}, "out"};

  Expr loss(Graph& g, const Example& ex) const {
    Expr bag = sum_batch(embed.forward(g, ex.ids));
    return pick_neg_log_softmax(out(tanh(hidden(bag))), ex.label);
  }
};

std::vector<std::vector<double>> values(const Net& net) {
  std::vector<std::vector<double>> v;
  for (Parameter* p : net.model.parameters()) v.push_back(p->value().to_vector());
  return v;
}

// Runs f(t) on kThreads threads at once.
template <typename F>
void on_threads(F f) {
  std::vector<std::thread> ts;
  for (int t = 0; t < kThreads; ++t) ts.emplace_back(f, t);
  for (auto& th : ts) th.join();
}

TEST(ConcurrentGraphs, InferenceMatchesOneThreadBitForBit) {
  Net net;
  const auto data = make_examples(64);
  std::vector<double> want;
  Graph ref;
  for (const Example& ex : data) {
    ref.clear();
    want.push_back(net.loss(ref, ex).item());
  }
  std::vector<std::vector<double>> got(kThreads);
  on_threads([&](int t) {
    Graph g;  // each thread builds every example twice, in its own order
    for (int pass = 0; pass < 2; ++pass)
      for (size_t k = 0; k < data.size(); ++k) {
        const size_t i = (k + size_t(t) * 13) % data.size();
        g.clear();
        const double v = net.loss(g, data[i]).item();
        if (pass == 1) got[size_t(t)].push_back(v);
      }
  });
  for (int t = 0; t < kThreads; ++t)
    for (size_t k = 0; k < data.size(); ++k)
      ASSERT_EQ(got[size_t(t)][k], want[(k + size_t(t) * 13) % data.size()]) << "thread " << t;
}

// Trains `steps` Adam steps; in each, buffer t gets examples t, t + kThreads, ... of the batch.
// threaded: the buffers are filled by kThreads threads at once; otherwise one after another.
std::vector<std::vector<double>> train(bool threaded, int steps, std::vector<int32_t>* touched = nullptr) {
  Net net;
  optim::Adam opt(net.model.parameters(), optim::AdamOptions(0.05));
  std::vector<GradientBuffer> grads;
  for (int t = 0; t < kThreads; ++t) grads.emplace_back(net.model.parameters());
  const auto data = make_examples(48);
  auto work = [&](int t) {
    Graph g;
    g.set_gradients(&grads[size_t(t)]);
    for (size_t i = size_t(t); i < data.size(); i += kThreads) {
      g.clear();
      g.backward(net.loss(g, data[i]));
    }
  };
  for (int s = 0; s < steps; ++s) {
    if (threaded)
      on_threads(work);
    else
      for (int t = 0; t < kThreads; ++t) work(t);
    opt.zero_grad();
    for (GradientBuffer& b : grads) b.reduce_into();
    if (touched && s == 0) *touched = net.embed.table().touched_rows();
    opt.step();
  }
  return values(net);
}

TEST(ConcurrentGraphs, TrainingEqualsTheSameBuffersRunInTurn) {
  const auto serial = train(false, 4);
  const auto threaded = train(true, 4);
  const auto again = train(true, 4);
  ASSERT_EQ(serial.size(), threaded.size());
  for (size_t p = 0; p < serial.size(); ++p) {
    EXPECT_EQ(threaded[p], serial[p]) << "parameter " << p;
    EXPECT_EQ(again[p], threaded[p]) << "parameter " << p << " differs between two threaded runs";
  }
}

TEST(ConcurrentGraphs, BufferSumEqualsOneGraphAccumulatingEverything) {
  // One step, compared with the plain path (every example into Parameter::grad()).
  Net plain;
  optim::Adam opt(plain.model.parameters(), optim::AdamOptions(0.05));
  const auto data = make_examples(48);
  opt.zero_grad();
  Graph g;
  for (const Example& ex : data) {
    g.clear();
    g.backward(plain.loss(g, ex));
  }
  std::vector<int32_t> plain_rows = plain.embed.table().touched_rows();
  std::vector<std::vector<double>> plain_grads;
  for (Parameter* p : plain.model.parameters()) plain_grads.push_back(p->grad().to_vector());

  Net net;  // same seed, same initial values
  std::vector<GradientBuffer> grads;
  for (int t = 0; t < kThreads; ++t) grads.emplace_back(net.model.parameters());
  on_threads([&](int t) {
    Graph tg;
    tg.set_gradients(&grads[size_t(t)]);
    for (size_t i = size_t(t); i < data.size(); i += kThreads) {
      tg.clear();
      tg.backward(net.loss(tg, data[i]));
    }
  });
  for (Parameter* p : net.model.parameters())
    EXPECT_EQ(p->grad().to_vector(), std::vector<double>(size_t(p->shape().total()), 0.0))
        << p->name() << ": a thread wrote into the parameter's own gradient";
  for (GradientBuffer& b : grads) b.reduce_into();
  const auto params = net.model.parameters();
  for (size_t k = 0; k < params.size(); ++k) {
    const auto got = params[k]->grad().to_vector();
    ASSERT_EQ(got.size(), plain_grads[k].size());
    for (size_t i = 0; i < got.size(); ++i)
      EXPECT_NEAR(got[i], plain_grads[k][i], 1e-5) << params[k]->name() << "[" << i << "]";
  }
  // The sparse table's touched rows: the same set (order may differ), and buffers are empty again.
  std::vector<int32_t> rows = net.embed.table().touched_rows();
  std::sort(rows.begin(), rows.end());
  std::sort(plain_rows.begin(), plain_rows.end());
  EXPECT_EQ(rows, plain_rows);
  for (GradientBuffer& b : grads) {
    EXPECT_TRUE(b.touched_rows(net.embed.table()).empty());
    for (Parameter* p : params)
      EXPECT_EQ(b.grad(*p).to_vector(), std::vector<double>(size_t(p->shape().total()), 0.0));
  }
}

TEST(ConcurrentGraphs, BufferRejectsForeignParametersAndLateAttachment) {
  Net net;
  Parameter other("other", Tensor::zeros(Shape{2}));
  GradientBuffer buf(net.model.parameters());
  Graph g;
  g.set_gradients(&buf);
  EXPECT_THROW(g.param(other), Error);
  g.clear();
  g.input(Shape{1}, {1.0f});
  EXPECT_THROW(g.set_gradients(nullptr), Error);
  std::vector<Parameter*> twice{&other, &other};
  EXPECT_THROW(GradientBuffer{twice}, Error);
}

}  // namespace
