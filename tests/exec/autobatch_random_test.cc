// Randomised comparison of auto-batched against eager execution: many graphs, each holding
// several examples of different random structure (mixed shapes, batch sizes and ops, shared
// parameters, values read in the middle of building, dropout), every node's value and every
// gradient compared. Any seed that fails is printed, so a failure can be replayed alone.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <memory>
#include <random>

#include "flare/autobatch.h"
#include "flare/flare.h"
#include "support/gradcheck.h"

namespace flare {
namespace {

using testing::random_values;

constexpr int kDims[] = {2, 3, 4};

struct Params {
  std::vector<std::unique_ptr<Parameter>> all;
  Parameter* W[5][5] = {};  // W[out][in]
  Parameter* b[5] = {};
  Parameter* E = nullptr;   // [7, 3] embedding table
  Parameter* M = nullptr;   // [3, 2] matrix for matrix products
  explicit Params(uint64_t seed) {
    auto make = [&](const std::string& name, const Shape& s) {
      all.push_back(std::make_unique<Parameter>(name, Tensor::from(s, random_values({s, -0.8, 0.8}, seed++), DType::f64)));
      return all.back().get();
    };
    for (int o : kDims) {
      b[o] = make("b" + std::to_string(o), Shape{o});
      for (int i : kDims) W[o][i] = make("W" + std::to_string(o) + std::to_string(i), Shape{o, i});
    }
    E = make("E", Shape{7, 3});
    M = make("M", Shape{3, 2});
  }
  void zero() {
    for (auto& p : all) p->zero_grad();
  }
};

// Builds one example of random structure; returns its loss. `rng` decides the structure, so the
// same seed builds the same nodes in any graph.
// `common` holds nodes every example may use (so groups see the same node in every member).
Expr build_example(Graph& g, Params& P, std::mt19937_64& rng, std::vector<Expr>& leaves, double read_prob,
                   const std::vector<Expr>& common = {}) {
  auto pick_int = [&](int n) { return int(rng() % uint64_t(n)); };
  auto chance = [&](double p) { return double(rng() % 10000) / 10000.0 < p; };
  std::vector<Expr> pool = common;
  // Leaves: inputs (some batched, some needing a gradient) and lookups.
  const int nleaves = 2 + pick_int(3);
  for (int i = 0; i < nleaves; ++i) {
    const int d = kDims[pick_int(3)];
    const int64_t batch = chance(0.2) ? 2 : 1;
    Shape s({d}, batch);
    Expr x = g.input(Tensor::from(s, random_values({s, -1, 1}, rng()), DType::f64), chance(0.5));
    leaves.push_back(x);
    pool.push_back(x);
  }
  pool.push_back(chance(0.3) ? lookup(g, *P.E, std::vector<int32_t>{pick_int(7), pick_int(7)})
                             : lookup(g, *P.E, pick_int(7)));

  auto any = [&]() { return pool[size_t(pick_int(int(pool.size())))]; };
  auto dim_of = [](const Expr& e) { return int(e.shape().dim(0)); };
  // An operand of dimension d (an existing one, or a projection of one).
  auto with_dim = [&](int d) {
    for (int tries = 0; tries < 4; ++tries) {
      Expr e = any();
      if (e.shape().nd() == 1 && dim_of(e) == d) return e;
    }
    Expr e = any();
    return affine({g.param(*P.b[d]), g.param(*P.W[d][dim_of(e)]), e});
  };

  const int steps = 4 + pick_int(10);
  for (int s = 0; s < steps; ++s) {
    Expr x = any();
    const int d = dim_of(x);
    Expr y;
    switch (pick_int(15)) {
      case 0: y = tanh(x); break;
      case 1: y = sigmoid(x) * 2.0 + 0.5; break;
      case 2: y = x + with_dim(d); break;
      case 3: y = x * with_dim(d) - x; break;
      case 4: y = x / (square(with_dim(d)) + 1.0); break;
      case 5: y = max(x, with_dim(d)) + min(x, with_dim(d)); break;
      case 6: {
        const int o = kDims[pick_int(3)];
        Expr x2 = with_dim(o);
        // Both pairs with the same batch: affine's forward mishandles a batch-1 x in a batched
        // output (eager mode too), a bug reported to the owner of src/ops/linalg.cc.
        y = chance(0.5) || x2.shape().batch() != x.shape().batch()
                ? affine({g.param(*P.b[o]), g.param(*P.W[o][d]), x})
                : affine({g.param(*P.b[o]), g.param(*P.W[o][d]), x, g.param(*P.W[o][o]), x2});
        break;
      }
      case 7: y = matmul(g.param(*P.W[kDims[pick_int(3)]][d]), x); break;
      case 8: {
        Expr c = concat({x, with_dim(3)});
        y = slice(c, 0, 1, 1 + kDims[pick_int(3)]);
        break;
      }
      case 9: y = x * dot(x, with_dim(d)); break;
      case 10: y = chance(0.5) ? softmax(x) : log_softmax(x); break;
      case 11: y = with_dim(3) * (pick(x, pick_int(d)) + logsumexp(x) + max(x, 0)); break;
      case 12: y = dropout(x, 0.25); break;
      case 13:
        if (d == 4) {
          y = reshape(transpose(reshape(x, Shape{2, 2})), Shape{4});
        } else {
          y = matmul(transpose(g.param(*P.M)), with_dim(3)) + squared_distance(x, with_dim(d));
        }
        break;
      default:
        y = x.shape().batch() > 1 ? sum_batch(x) : elu(x, 0.5) + abs(x);
        break;
    }
    pool.push_back(y);
    if (chance(read_prob)) (void)pool[size_t(pick_int(int(pool.size())))].value();
  }
  // Loss: a classifier loss on one node and the sums of a few others.
  Expr last = pool.back();
  Expr scores = affine({g.param(*P.b[3]), g.param(*P.W[3][dim_of(last)]), last});
  std::vector<int32_t> labels(size_t(scores.shape().batch()));
  for (int32_t& l : labels) l = pick_int(3);
  Expr loss = sum_batch(pick_neg_log_softmax(scores, labels));
  for (int k = 0; k < 2; ++k) loss = loss + sum_batch(sum(any()));
  return loss;
}

struct Result {
  std::vector<std::vector<double>> values, grads;
  std::vector<std::string> what;  // each node's op, shape and arguments, for failure messages
};

Result run(uint64_t seed, int examples, Params& P, const AutobatchOptions* o, double read_prob) {
  P.zero();
  Graph g;
  g.set_seed(seed);
  Autobatch ab(o ? *o : AutobatchOptions{});
  if (o) g.set_executor(&ab);
  std::mt19937_64 rng(seed);
  std::vector<Expr> leaves, losses, common;
  if (seed % 3 == 0) {
    Expr c = g.input(Tensor::from(Shape{3}, random_values({Shape{3}, -1, 1}, seed), DType::f64), true);
    leaves.push_back(c);
    common = {c, tanh(c)};
  }
  for (int e = 0; e < examples; ++e) losses.push_back(build_example(g, P, rng, leaves, read_prob, common));
  Expr loss = sum(losses);
  loss.backward();
  Result r;
  for (uint32_t i = 0; i < g.size(); ++i) {
    r.values.push_back(Expr(&g, i).to_vector());
    const Node& n = g.node(i);
    std::string w = std::string(op_name(n.op)) + " " + n.shape.str() + " of";
    for (uint32_t k = 0; k < n.nargs; ++k) w += " #" + std::to_string(g.args(n)[k]);
    r.what.push_back(w);
  }
  for (const Expr& x : leaves)
    if (x.node().grad) r.grads.push_back(x.grad().to_vector());  // unused leaves get none
  for (auto& p : P.all) r.grads.push_back(p->grad().to_vector());
  return r;
}

::testing::AssertionResult same(const Result& a, const Result& b) {
  for (int which = 0; which < 2; ++which) {
    const auto& x = which ? a.grads : a.values;
    const auto& y = which ? b.grads : b.values;
    if (x.size() != y.size()) return ::testing::AssertionFailure() << "different counts";
    for (size_t i = 0; i < x.size(); ++i)
      for (size_t j = 0; j < x[i].size(); ++j)
        if (!(std::fabs(x[i][j] - y[i][j]) <= 1e-10 * (1 + std::fabs(y[i][j]))))
          return ::testing::AssertionFailure() << (which ? "gradient " : "value of node ") << i << "[" << j
                                               << "]: " << x[i][j] << " vs eager " << y[i][j]
                                               << (which ? "" : " (" + b.what[i] + ")");
  }
  return ::testing::AssertionSuccess();
}

TEST(AutobatchRandom, MixedGraphsMatchEager) {
  Params P(77);
  const AutobatchOptions variants[] = {
      {BatchStrategy::agenda, true, true},
      {BatchStrategy::agenda, false, false},
      {BatchStrategy::depth, true, false},
      {BatchStrategy::none, false, true},
  };
  // FLARE_AUTOBATCH_SEEDS=N runs seeds 1..N instead of 1..60 (a longer soak); =A-B replays A..B.
  const char* env = std::getenv("FLARE_AUTOBATCH_SEEDS");
  uint64_t first = 1, last = 60;
  if (env) {
    char* rest = nullptr;
    last = std::strtoull(env, &rest, 10);
    if (rest && *rest == '-') {
      first = last;
      last = std::strtoull(rest + 1, nullptr, 10);
    }
  }
  const uint64_t seeds = last - first + 1;
  uint64_t trials = 0;
  for (uint64_t seed = first; seed <= last; ++seed) {
    const int examples = 2 + int(seed % 9);
    const double read_prob = seed % 4 == 0 ? 0.05 : 0.0;
    Result eager = run(seed, examples, P, nullptr, read_prob);
    const AutobatchOptions& o = variants[seed % 4];
    Result lazy = run(seed, examples, P, &o, read_prob);
    EXPECT_TRUE(same(lazy, eager)) << "seed " << seed << ", " << examples << " examples, strategy "
                                   << int(o.strategy) << ", plan_layout " << o.plan_layout;
    ++trials;
  }
  EXPECT_EQ(trials, seeds);
}

TEST(AutobatchRandom, MixedGraphsBatchSomething) {
  Params P(78);
  Graph g;
  Autobatch ab;
  g.set_executor(&ab);
  std::mt19937_64 rng(5);
  std::vector<Expr> leaves, losses;
  for (int e = 0; e < 16; ++e) losses.push_back(build_example(g, P, rng, leaves, 0.0));
  sum(losses).backward();
  EXPECT_GT(ab.stats().batched_groups, 0u);
  EXPECT_GT(ab.stats().mean_group_size(), 1.5);
}

}  // namespace
}  // namespace flare
