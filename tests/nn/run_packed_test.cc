// nn::run_packed: sequences of different lengths as one batch that shrinks as they end. Each
// sequence's final state must be what running the cell over that sequence alone gives (values
// and gradients, LSTM and GRU, either direction of feeding), the gradients must pass a
// finite-difference check, and bad lengths or inputs must be refused with a clear message.
#include <gtest/gtest.h>

#include <memory>

#include "nn/nn_test_util.h"

namespace flare::nn {
namespace {

using testing::expect_near;
using testing::formula_tensor;

constexpr int64_t kIn = 3, kHidden = 4;
const std::vector<int64_t> kLengths = {5, 5, 3, 2, 2, 1};

std::unique_ptr<RecurrentCell> make_cell(Model& m, bool lstm) {
  if (lstm) return std::make_unique<LSTMCell>(m, kIn, kHidden);
  return std::make_unique<GRUCell>(m, kIn, kHidden);
}

// Input of sequence k at its position t: a fixed formula row of the table `xs` (one row per
// (k, t)), looked up so that the inputs get gradients too.
int32_t row_of(size_t k, int64_t t) { return int32_t(k * 8 + size_t(t)); }

struct Outcome {
  std::vector<std::vector<double>> finals, grads;
};

// Final h (and c) of every sequence and the gradients of a loss weighing each differently,
// computed packed or one sequence at a time; `reverse` feeds each sequence from its end.
Outcome run_sequences(Model& m, Parameter& xs, const RecurrentCell& cell, bool packed, bool reverse) {
  m.zero_grad();
  xs.zero_grad();
  Graph g;
  const Expr table = g.param(xs);
  auto position = [&](size_t k, int64_t step) { return reverse ? kLengths[k] - 1 - step : step; };
  std::vector<RNNState> finals;
  if (packed) {
    finals = run_packed(cell, kLengths, [&](int64_t step, int64_t b) {
      std::vector<int32_t> ids;
      for (int64_t k = 0; k < b; ++k) ids.push_back(row_of(size_t(k), position(size_t(k), step)));
      return lookup(table, ids);
    });
  } else {
    for (size_t k = 0; k < kLengths.size(); ++k) {
      std::vector<Expr> seq;
      for (int64_t step = 0; step < kLengths[k]; ++step) seq.push_back(lookup(table, row_of(k, position(k, step))));
      finals.push_back(run(cell, seq).final);
    }
  }
  Outcome o;
  Expr loss = g.scalar(0.0, DType::f64);
  for (size_t k = 0; k < finals.size(); ++k) {
    EXPECT_EQ(finals[k].h.shape().batch(), 1);
    o.finals.push_back(finals[k].h.to_vector());
    loss = loss + double(k + 1) * sum(finals[k].h);
    if (finals[k].c.valid()) {
      o.finals.push_back(finals[k].c.to_vector());
      loss = loss + 0.5 * sum(finals[k].c);
    }
  }
  g.backward(loss);
  for (Parameter* p : m.parameters()) o.grads.push_back(p->grad().to_vector());
  o.grads.push_back(xs.grad().to_vector());
  return o;
}

TEST(RunPacked, EachSequenceEndsWhereItWouldAlone) {
  for (bool lstm : {true, false})
    for (bool reverse : {false, true}) {
      SCOPED_TRACE(std::string(lstm ? "LSTM" : "GRU") + (reverse ? ", reversed" : ""));
      Model m(DType::f64);
      std::unique_ptr<RecurrentCell> cell = make_cell(m, lstm);
      Parameter xs("xs", formula_tensor(3, Shape{48, kIn}));
      const Outcome packed = run_sequences(m, xs, *cell, true, reverse);
      const Outcome alone = run_sequences(m, xs, *cell, false, reverse);
      ASSERT_EQ(packed.finals.size(), alone.finals.size());
      for (size_t i = 0; i < packed.finals.size(); ++i) expect_near(packed.finals[i], alone.finals[i], 1e-14);
      ASSERT_EQ(packed.grads.size(), alone.grads.size());
      for (size_t i = 0; i < packed.grads.size(); ++i) expect_near(packed.grads[i], alone.grads[i], 1e-13);
    }
}

TEST(RunPacked, GradientsMatchFiniteDifferences) {
  Model m(DType::f64);
  LSTMCell cell(m, kIn, kHidden);
  Parameter xs("xs", formula_tensor(4, Shape{48, kIn}));
  auto r = testing::check_gradients(m, [&](Graph& g) {
    const Expr table = g.param(xs);
    std::vector<RNNState> f = run_packed(cell, {3, 2, 2, 1}, [&](int64_t step, int64_t b) {
      std::vector<int32_t> ids;
      for (int64_t k = 0; k < b; ++k) ids.push_back(row_of(size_t(k), step));
      return lookup(table, ids);
    });
    return std::vector<Expr>{f[0].h, f[1].c, f[3].h};
  }, {&xs});
  EXPECT_TRUE(r.ok) << r.detail;
}

TEST(RunPacked, RefusesBadLengthsAndInputs) {
  Model m(DType::f64);
  LSTMCell cell(m, kIn, kHidden, {}, "chars");
  Graph g;
  auto zeros = [&](int64_t, int64_t b) { return g.input(Tensor::zeros(Shape({kIn}, b), DType::f64)); };
  auto message = [&](const std::vector<int64_t>& lengths, const std::function<Expr(int64_t, int64_t)>& in) {
    try {
      run_packed(cell, lengths, in);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(message({}, zeros).find("run_packed chars: no sequences"), std::string::npos);
  EXPECT_NE(message({2, 0}, zeros).find("sequence 1 has length 0"), std::string::npos);
  EXPECT_NE(message({2, 3}, zeros).find("longest first; sequence 1 (3) follows one of 2"), std::string::npos);
  const std::string wrong = message({2, 1}, [&](int64_t, int64_t) { return zeros(0, 1); });
  EXPECT_NE(wrong.find("step 0 needs an input of batch 2, got [3]"), std::string::npos) << wrong;
}

}  // namespace
}  // namespace flare::nn
