// Auto-batching against eager execution: the registry sweep (every op sample, built for several
// examples in one lazy graph, with each argument in turn a parameter shared by the examples),
// lazy-mode semantics, and what the executor reports. The randomised mixed-graph comparison is
// in autobatch_random_test.cc.
#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <set>

#include "cuda/cuda_test_util.h"
#include "flare/autobatch.h"
#include "flare/flare.h"
#include "flare/nn/nn.h"
#include "ops/registry.h"
#include "support/gradcheck.h"

namespace flare {
namespace {

using testing::op_samples;
using testing::OpSample;
using testing::random_values;

enum class Mode { eager, lazy, lazy_then_eager_backward };

struct SampleRun {
  std::vector<std::vector<double>> values;  // each example's output
  std::vector<std::vector<double>> grads;   // each example's non-shared inputs, then the shared parameter
  AutobatchStats stats;
};

// Builds `sample` for k examples in one graph (each with its own random inputs; argument
// `shared` is one parameter for all of them), sums sum(y_e * R_e) over the examples and runs
// backward. On `dev` (inputs are copied there from the same host values).
SampleRun run_sample(const OpSample& s, int k, int shared, Mode mode, const AutobatchOptions& o = {},
                     Device dev = Device::cpu()) {
  std::unique_ptr<Parameter> param;
  if (shared >= 0) {
    const testing::ArgSpec& a = s.args[size_t(shared)];
    param = std::make_unique<Parameter>("shared", Tensor::from(a.shape, random_values(a, 900 + uint64_t(shared)), DType::f64));
    param->to(dev);
  }
  Graph g(dev);
  g.set_seed(1234);
  Autobatch ab(o);
  if (mode != Mode::eager) g.set_executor(&ab);
  std::vector<Expr> ys, inputs, losses;
  for (int e = 0; e < k; ++e) {
    std::vector<Expr> args;
    for (size_t i = 0; i < s.args.size(); ++i) {
      if (int(i) == shared) {
        args.push_back(g.param(*param));
        continue;
      }
      const testing::ArgSpec& a = s.args[i];
      Expr x = g.input(Tensor::from(a.shape, random_values(a, uint64_t(e) * 31 + i + 1), DType::f64), true);
      args.push_back(x);
      inputs.push_back(x);
    }
    Expr y = s.build(args);
    ys.push_back(y);
    Expr r = g.input(Tensor::from(y.shape(), random_values({y.shape(), -1, 1}, 500 + uint64_t(e)), DType::f64));
    losses.push_back(sum_batch(sum(y * r)));
  }
  Expr loss = sum(losses);
  if (mode == Mode::lazy_then_eager_backward) {
    loss.value();
    g.set_executor(nullptr);
  }
  loss.backward();
  SampleRun out;
  for (const Expr& y : ys) out.values.push_back(y.to_vector());
  for (const Expr& x : inputs) out.grads.push_back(x.grad().to_vector());
  if (param) out.grads.push_back(param->grad().to_vector());
  out.stats = ab.stats();
  return out;
}

void expect_close(const std::vector<std::vector<double>>& a, const std::vector<std::vector<double>>& b,
                  const std::string& what) {
  ASSERT_EQ(a.size(), b.size()) << what;
  for (size_t i = 0; i < a.size(); ++i) {
    ASSERT_EQ(a[i].size(), b[i].size()) << what << " " << i;
    for (size_t j = 0; j < a[i].size(); ++j)
      ASSERT_NEAR(a[i][j], b[i][j], 1e-10 * (1 + std::fabs(b[i][j]))) << what << " " << i << "[" << j << "]";
  }
}

TEST(AutobatchSweep, EveryOpSampleMatchesEagerStackedAndShared) {
  const int k = 3;
  std::set<std::string> batched_somewhere;
  for (const OpSample& s : op_samples()) {
    for (int shared = -1; shared < int(s.args.size()); ++shared) {
      SCOPED_TRACE(s.name + (shared < 0 ? std::string(" (own inputs)") : " (argument " + std::to_string(shared) + " shared)"));
      SampleRun eager = run_sample(s, k, shared, Mode::eager);
      SampleRun lazy = run_sample(s, k, shared, Mode::lazy);
      expect_close(lazy.values, eager.values, "value");
      expect_close(lazy.grads, eager.grads, "gradient");
      if (lazy.stats.batched_groups > 0) batched_somewhere.insert(s.name);
      EXPECT_GE(lazy.stats.nodes, uint64_t(k));
    }
  }
  // Every sample whose op batches must have run batched at least once.
  for (const OpSample& s : op_samples()) {
    if (s.op != OpId::Count && ops::def(s.op).batching == ops::BatchKind::None) continue;
    EXPECT_TRUE(batched_somewhere.count(s.name)) << s.name << " never ran batched";
  }
}

// The auto-batcher on a GPU (what the GPU benchmarks run): every sample, batched on cuda:0,
// against eager on the CPU. Float64, so the different summation orders stay within 1e-10.
TEST(AutobatchSweep, CudaEveryOpSampleMatchesCpuEager) {
  FLARE_REQUIRE_CUDA();
  const int k = 3;
  for (const OpSample& s : op_samples()) {
    for (int shared = -1; shared < int(s.args.size()); ++shared) {
      SCOPED_TRACE(s.name + (shared < 0 ? std::string(" (own inputs)") : " (argument " + std::to_string(shared) + " shared)"));
      SampleRun cpu = run_sample(s, k, shared, Mode::eager);
      SampleRun gpu = run_sample(s, k, shared, Mode::lazy, {}, cudatest::gpu());
      expect_close(gpu.values, cpu.values, "value");
      expect_close(gpu.grads, cpu.grads, "gradient");
    }
  }
}

TEST(AutobatchSweep, BatchedForwardThenEagerBackward) {
  // Members of batched groups hold their own slices of values and scratch (dropout masks,
  // log-probabilities), so the eager engine can run their backward.
  for (const OpSample& s : op_samples()) {
    SCOPED_TRACE(s.name);
    SampleRun eager = run_sample(s, 3, -1, Mode::eager);
    SampleRun mixed = run_sample(s, 3, -1, Mode::lazy_then_eager_backward);
    expect_close(mixed.values, eager.values, "value");
    expect_close(mixed.grads, eager.grads, "gradient");
  }
}

TEST(AutobatchSweep, EveryStrategyAndOption) {
  const AutobatchOptions variants[] = {
      {BatchStrategy::depth, true, true},
      {BatchStrategy::agenda, false, false},
      {BatchStrategy::none, true, true},
  };
  for (const AutobatchOptions& o : variants)
    for (const OpSample& s : op_samples()) {
      SCOPED_TRACE(s.name + " strategy " + std::to_string(int(o.strategy)));
      SampleRun eager = run_sample(s, 2, 0, Mode::eager);
      SampleRun lazy = run_sample(s, 2, 0, Mode::lazy, o);
      expect_close(lazy.values, eager.values, "value");
      expect_close(lazy.grads, eager.grads, "gradient");
      if (o.strategy == BatchStrategy::none) {
        EXPECT_EQ(lazy.stats.batched_groups, 0u);
      }
    }
}

// ---- Lazy-mode semantics ----

// Leaf arguments (inputs with requires_grad) stacked by a batched group, whose values happen to
// lie one after another (64 bytes each, created in a row): their gradients go to their own
// slots, and their values stay as they were. (The executor once took such a run of values for
// a group's mirrored gradient and accumulated the gradients into the values themselves.)
TEST(AutobatchLazy, ContiguousLeafArgumentsGetTheirOwnGradients) {
  auto run = [](bool lazy) {
    Graph g;
    Autobatch ab;
    if (lazy) g.set_executor(&ab);
    Expr W = g.input(Tensor::from(Shape{3, 8}, random_values({Shape{3, 8}, -1, 1}, 7), DType::f64));
    std::vector<Expr> xs;
    for (int e = 0; e < 4; ++e)
      xs.push_back(g.input(Tensor::from(Shape{8}, random_values({Shape{8}, -1, 1}, 10 + uint64_t(e)), DType::f64), true));
    std::vector<Expr> terms;
    for (int e = 0; e < 4; ++e) terms.push_back(sum(tanh(matmul(W, xs[size_t(e)])) * double(e + 1)) + sum(xs[size_t(e)] * xs[size_t(e)]));
    sum(terms).backward();
    std::vector<std::vector<double>> out;
    for (const Expr& x : xs) out.push_back(x.grad().to_vector());
    for (const Expr& x : xs) out.push_back(x.to_vector());  // values, after backward
    return out;
  };
  const auto eager = run(false), lazy = run(true);
  expect_close(lazy, eager, "input gradients, then input values");
}

TEST(AutobatchLazy, NodesAreComputedOnDemand) {
  Graph g;
  Autobatch ab;
  g.set_executor(&ab);
  Expr x = g.input(Shape{2}, {1, 2});
  Expr y = x * 3.0;
  EXPECT_EQ(y.node().value, nullptr);
  EXPECT_EQ(y.shape(), Shape{2});
  EXPECT_EQ(y.to_vector(), (std::vector<double>{3, 6}));
  // Reading a value mid-build computes what is pending; later nodes are still lazy.
  Expr z = y + x;
  EXPECT_EQ(z.node().value, nullptr);
  EXPECT_EQ(z.to_vector(), (std::vector<double>{4, 8}));
  EXPECT_EQ(ab.stats().nodes, 2u);
}

TEST(AutobatchLazy, ShapeErrorsAreThrownWhenRecording) {
  Graph g;
  Autobatch ab;
  g.set_executor(&ab);
  Expr a = g.input(Shape{3}, {1, 2, 3});
  Expr b = g.input(Shape{4}, {1, 2, 3, 4});
  EXPECT_THROW(a + b, ShapeError);
}

TEST(AutobatchLazy, ValueReadMidBuildThenBackwardMatchesEager) {
  // A loss read after each example (as a training loop may log it) splits the batches but must
  // not change any result.
  Parameter W("W", Tensor::from(Shape{3, 3}, random_values({Shape{3, 3}, -1, 1}, 5), DType::f64));
  Parameter b("b", Tensor::from(Shape{3}, random_values({Shape{3}, -1, 1}, 6), DType::f64));
  auto run = [&](bool lazy, bool read) {
    W.zero_grad();
    b.zero_grad();
    Graph g;
    Autobatch ab;
    if (lazy) g.set_executor(&ab);
    std::vector<Expr> losses;
    double logged = 0;
    for (int e = 0; e < 4; ++e) {
      Expr h = g.input(Tensor::from(Shape{3}, random_values({Shape{3}, -1, 1}, 10 + e), DType::f64));
      for (int t = 0; t <= e; ++t) h = tanh(affine({g.param(b), g.param(W), h}));
      losses.push_back(pick_neg_log_softmax(h, e % 3));
      if (read) logged += losses.back().item();
    }
    Expr loss = sum(losses);
    loss.backward();
    std::vector<double> out = W.grad().to_vector();
    out.push_back(loss.item());
    out.push_back(logged);
    return out;
  };
  std::vector<double> eager = run(false, true);
  for (bool read : {false, true}) {
    std::vector<double> lazy = run(true, read);
    for (size_t i = 0; i + 1 < eager.size(); ++i) EXPECT_NEAR(lazy[i], eager[i], 1e-12) << i;
    if (read) {
      EXPECT_NEAR(lazy.back(), eager.back(), 1e-12);
    }
  }
}

TEST(AutobatchLazy, ClearedGraphIsRebuiltWithTheSameExecutor) {
  Parameter W("W", Tensor::from(Shape{2, 2}, {0.5, -1, 2, 0.25}, DType::f64));
  Graph g;
  Autobatch ab;
  g.set_executor(&ab);
  for (int round = 0; round < 3; ++round) {
    W.zero_grad();
    g.clear();
    std::vector<Expr> ls;
    for (int e = 0; e < 3; ++e)
      ls.push_back(sum(matmul(g.param(W), g.input(Tensor::from(Shape{2}, {double(e), 1.0}, DType::f64)))));
    Expr l = sum(ls);
    l.backward();
    // d/dW sum_e W x_e = sum_e [x_e; x_e]^T: columns (0+1+2, 3).
    EXPECT_EQ(W.grad().to_vector(), (std::vector<double>{3, 3, 3, 3})) << "round " << round;
  }
}

TEST(AutobatchLazy, ScopeRestoresEagerMode) {
  Graph g;
  Expr x = g.input(Shape{2}, {1, -1});
  Expr y;
  {
    AutobatchScope scope(g);
    EXPECT_EQ(g.executor(), &scope.executor());
    y = tanh(x);
    EXPECT_EQ(y.node().value, nullptr);
  }
  EXPECT_EQ(g.executor(), nullptr);
  EXPECT_NE(y.node().value, nullptr);  // computed when the scope closed
  EXPECT_NEAR(y.to_vector()[0], std::tanh(1.0), 1e-6);
  Expr z = y * 2.0;  // eager again
  EXPECT_NE(z.node().value, nullptr);
}

TEST(AutobatchLazy, AnomalyInABatchedGroupNamesTheNode) {
  Graph g;
  g.set_check_finite(true);
  Autobatch ab;
  g.set_executor(&ab);
  std::vector<Expr> ys;
  for (int e = 0; e < 4; ++e) ys.push_back(log(g.input(Shape{2}, {1.0f, e == 2 ? -1.0f : 2.0f})));
  try {
    sum(ys).value();
    FAIL() << "expected an AnomalyError";
  } catch (const AnomalyError& err) {
    EXPECT_NE(std::string(err.what()).find("node " + std::to_string(ys[2].id()) + " (log"), std::string::npos) << err.what();
    EXPECT_NE(std::string(err.what()).find("auto-batched"), std::string::npos) << err.what();
  }
}

TEST(AutobatchLazy, SparseLookupsMarkTheSameRows) {
  auto run = [](bool lazy) {
    Parameter E("E", Tensor::from(Shape{6, 2}, random_values({Shape{6, 2}, -1, 1}, 3), DType::f64));
    E.set_sparse(true);
    Graph g;
    Autobatch ab;
    if (lazy) g.set_executor(&ab);
    std::vector<Expr> ls;
    for (int32_t id : {4, 1, 4, 5}) ls.push_back(sum(tanh(lookup(g, E, id))));
    sum(ls).backward();
    std::vector<int32_t> rows = E.touched_rows();
    std::sort(rows.begin(), rows.end());
    return std::make_pair(rows, E.grad().to_vector());
  };
  auto eager = run(false), lazy = run(true);
  EXPECT_EQ(lazy.first, eager.first);
  EXPECT_EQ(lazy.second, eager.second);
}

TEST(AutobatchLazy, BackwardFromANodeInTheMiddle) {
  // The root is not the last node; nodes after it (some in the same groups) get no gradient.
  Parameter W("W", Tensor::from(Shape{2, 2}, {0.5, -1, 2, 0.25}, DType::f64));
  auto run = [&](bool lazy) {
    W.zero_grad();
    Graph g;
    Autobatch ab;
    if (lazy) g.set_executor(&ab);
    Expr h1 = tanh(matmul(g.param(W), g.input(Tensor::from(Shape{2}, {1.0, 2.0}, DType::f64))));
    Expr h2 = tanh(matmul(g.param(W), g.input(Tensor::from(Shape{2}, {-1.0, 0.5}, DType::f64))));
    Expr l1 = sum(h1);
    Expr l2 = sum(h2 * h2);
    (void)l2.value();
    l1.backward();
    return W.grad().to_vector();
  };
  std::vector<double> e = run(false), l = run(true);
  for (size_t i = 0; i < e.size(); ++i) EXPECT_NEAR(l[i], e[i], 1e-12);
}

// ---- What the executor reports ----

// k chains y <- tanh(W y + b) of the given lengths over one shared W and b.
AutobatchStats chains(const std::vector<int>& lengths, const AutobatchOptions& o) {
  Parameter W("W", Tensor::from(Shape{8, 8}, random_values({Shape{8, 8}, -0.3, 0.3}, 1)));
  Parameter b("b", Tensor::from(Shape{8}, random_values({Shape{8}, -1, 1}, 2)));
  Graph g;
  Autobatch ab(o);
  g.set_executor(&ab);
  std::vector<Expr> ls;
  for (size_t e = 0; e < lengths.size(); ++e) {
    Expr h = g.input(Tensor::from(Shape{8}, random_values({Shape{8}, -1, 1}, 10 + e)));
    for (int t = 0; t < lengths[e]; ++t) h = tanh(affine({g.param(b), g.param(W), h}));
    ls.push_back(sum(h));
  }
  sum(ls).backward();
  return ab.stats();
}

TEST(AutobatchStats, EqualChainsRunOneKernelPerStep) {
  AutobatchStats s = chains(std::vector<int>(16, 10), {});
  // Per step one affine and one tanh for all 16 chains; then 16 sums (one group) and the 15
  // adds of the total, which depend on one another.
  EXPECT_EQ(s.nodes, 16u * 21 + 15);
  EXPECT_EQ(s.forward_kernels, 10u * 2 + 1 + 15);
  EXPECT_EQ(s.batched_groups, 21u);
  EXPECT_GT(s.operand_elements, 0u);
}

TEST(AutobatchStats, LayoutPlanningAvoidsCopiesForChainsThatEnd) {
  std::vector<int> lengths;
  for (int e = 0; e < 12; ++e) lengths.push_back(3 + (e * 7) % 9);
  AutobatchOptions planned, unplanned;
  unplanned.plan_layout = false;
  AutobatchStats p = chains(lengths, planned), u = chains(lengths, unplanned);
  EXPECT_EQ(p.forward_kernels, u.forward_kernels);
  EXPECT_LT(p.copied_elements, u.copied_elements);
  EXPECT_LT(p.copy_fraction(), 0.1) << p.copied_elements << " of " << p.operand_elements;
  EXPECT_GT(u.copy_fraction(), p.copy_fraction());
  EXPECT_GE(p.copy_time_share(), 0.0);
  EXPECT_LE(p.copy_time_share(), 1.0);
}

// Forward and backward LSTMs over words of different lengths, as the char tagger reads its rare
// words: returns the stats and the gradient of every parameter (eager when !lazy).
std::pair<AutobatchStats, std::vector<double>> bilstm_words(bool lazy) {
  nn::Model m(DType::f64);
  nn::LSTMCell fwd(m, 5, 6, {}, "fwd"), bwd(m, 5, 6, {}, "bwd");
  Graph g;
  Autobatch ab;
  if (lazy) g.set_executor(&ab);
  std::vector<Expr> ls;
  for (int w = 0; w < 20; ++w) {
    std::vector<Expr> xs;
    for (int c = 0; c < 2 + (w * 5) % 7; ++c) {
      const uint64_t seed = 100 * uint64_t(w) + uint64_t(c);
      xs.push_back(g.input(Tensor::from(Shape{5}, random_values({Shape{5}, -1, 1}, seed), DType::f64)));
    }
    const Expr v = concat({nn::run(fwd, xs).final.h, nn::run(bwd, xs, {}, true).final.h});
    ls.push_back(sum(v * v));
  }
  sum(ls).backward();
  std::vector<double> grads;
  for (Parameter* p : m.parameters()) {
    const std::vector<double> gp = p->grad().to_vector();
    grads.insert(grads.end(), gp.begin(), gp.end());
  }
  return {ab.stats(), grads};
}

TEST(AutobatchStats, TwoDirectionsRunTheirCellStepsApartWithoutGatheringGates) {
  // Each step's cell ops (lstm_state, lstm_output) of both directions have one signature, but
  // their gate pre-activations come from one affine group per direction. The schedule splits
  // the cell steps direction by direction, so the gates (4x wider than the states) are read in
  // place, forward and backward; what is left to copy is the inputs, which each character's
  // two directions read in opposite orders.
  const auto lazy = bilstm_words(true), eager = bilstm_words(false);
  ASSERT_EQ(lazy.second.size(), eager.second.size());
  for (size_t i = 0; i < eager.second.size(); ++i) EXPECT_NEAR(lazy.second[i], eager.second[i], 1e-12) << i;
  const AutobatchStats& s = lazy.first;
  EXPECT_GT(s.batched_groups, 0u);
  EXPECT_LT(s.copy_fraction(), 0.1) << s.copied_elements << " of " << s.operand_elements;
}

}  // namespace
}  // namespace flare
