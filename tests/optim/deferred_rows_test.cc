// Deferred row steps (AdamOptions::defer_untouched_rows): Adam leaves the zero-gradient steps
// of a row-gradient table's untouched rows pending and applies them when something reads the
// rows. Whatever reads the table (lookups in eager, auto-batched and static graphs, value(),
// another op, the optimizer's state) must see bit for bit the values of the plain dense update,
// through more steps than the pending limit, and the steps must really be deferred.
#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <thread>
#include <vector>

#include "flare/autobatch.h"
#include "flare/flare.h"
#include "flare/gradient_buffer.h"
#include "flare/optim.h"
#include "flare/static_graph.h"
#include "optim/deferred_rows.h"

namespace flare::optim {
namespace {

constexpr int64_t kRows = 40, kDim = 11;  // 11: a vector and a remainder per row

std::unique_ptr<Parameter> make_table(DType t) {
  std::vector<double> v(size_t(kRows * kDim));
  for (size_t i = 0; i < v.size(); ++i) v[i] = std::sin(0.37 * double(i) + 0.1);
  auto p = std::make_unique<Parameter>("emb", Tensor::from(Shape{kRows, kDim}, v, t));
  p->set_row_gradients(true);
  return p;
}

// The ids of step s: a few rows, some of them far more often than others (like words).
std::vector<int32_t> ids_of(int s) {
  std::vector<int32_t> ids = {int32_t(s % 3), int32_t((s * 7) % kRows)};
  if (s % 5 == 0) ids.push_back(int32_t((s * 13 + 5) % kRows));
  return ids;
}

// sum_i <row(ids[i]), c_i> with weights depending on the step.
Expr loss_of(Graph& g, Parameter& table, const std::vector<int32_t>& ids, int step) {
  std::vector<double> c(ids.size() * size_t(kDim));
  for (size_t i = 0; i < c.size(); ++i) c[i] = std::cos(0.11 * double(i) + step);
  return sum_batch(sum(lookup(g, table, ids) * g.input(Shape({kDim}, int64_t(ids.size())), c, table.dtype())));
}

// One table trained with deferred steps, one without; both see the same steps.
template <typename Opt, typename Options>
struct Pair {
  std::unique_ptr<Parameter> plain, deferred;
  std::unique_ptr<Opt> op, od;
  Pair(const Options& o, DType t) : plain(make_table(t)), deferred(make_table(t)) {
    Options off = o;
    off.defer_untouched_rows(false);
    op = std::make_unique<Opt>(std::vector<Parameter*>{plain.get()}, off);
    od = std::make_unique<Opt>(std::vector<Parameter*>{deferred.get()}, o);
  }
  // Runs `eager` graph steps; each loss (read through lookups only) must agree exactly.
  void train(int first, int steps) {
    for (int s = first; s < first + steps; ++s) {
      Graph gp(Device::cpu()), gd(Device::cpu());
      Expr lp = loss_of(gp, *plain, ids_of(s), s), ld = loss_of(gd, *deferred, ids_of(s), s);
      ASSERT_EQ(ld.item(), lp.item()) << "loss at step " << s;
      gp.backward(lp);
      gd.backward(ld);
      if (s % 2) {
        op->step_and_zero_grad();
        od->step_and_zero_grad();
      } else {
        op->step();
        od->step();
        op->zero_grad();
        od->zero_grad();
      }
    }
  }
  DeferredAdamRows& hook() { return dynamic_cast<DeferredAdamRows&>(*deferred->deferred()); }
  void expect_equal(const char* when) {
    EXPECT_EQ(deferred->value().to_vector(), plain->value().to_vector()) << when;
    const OptimizerState a = op->state(), b = od->state();
    ASSERT_EQ(a.tensors.size(), b.tensors.size());
    for (size_t k = 0; k < a.tensors.size(); ++k)
      EXPECT_EQ(b.tensors[k].second.to_vector(), a.tensors[k].second.to_vector()) << a.tensors[k].first << " " << when;
  }
};

class DeferredRows : public ::testing::TestWithParam<DType> {};

TEST_P(DeferredRows, AdamEqualsDenseThroughThePendingLimit) {
  Pair<Adam, AdamOptions> p(AdamOptions(0.01), GetParam());
  p.train(0, 40);
  // The steps are really deferred: a row not read for a while has steps pending.
  int pending = 0;
  for (int64_t r = 0; r < kRows; ++r) pending = std::max(pending, p.hook().pending(r));
  EXPECT_GT(pending, 10);
  p.train(40, DeferredAdamRows::kMaxPending + 60);  // past the limit, which settles everything
  p.expect_equal("after training");
  for (int64_t r = 0; r < kRows; ++r) EXPECT_EQ(p.hook().pending(r), 0);  // value() settled them
}

TEST_P(DeferredRows, WeightDecayAdamWAndChangingLearningRates) {
  Pair<Adam, AdamOptions> wd(AdamOptions(0.02).weight_decay(0.1), GetParam());
  Pair<AdamW, AdamWOptions> w(AdamWOptions(0.02).weight_decay(0.1), GetParam());
  for (int chunk = 0; chunk < 6; ++chunk) {
    const double lr = 0.02 / (1 + chunk);  // a schedule: each pending step keeps its own lr
    wd.op->set_lr(lr);
    wd.od->set_lr(lr);
    w.op->set_lr(lr);
    w.od->set_lr(lr);
    wd.train(chunk * 15, 15);
    w.train(chunk * 15, 15);
  }
  wd.expect_equal("adam, weight decay");
  w.expect_equal("adamw");
}

INSTANTIATE_TEST_SUITE_P(Optim, DeferredRows, ::testing::Values(DType::f64, DType::f32),
                         [](const auto& info) { return std::string(dtype_name(info.param)); });

TEST(DeferredRowsReaders, AnotherOpOnTheTableSettlesItAndEndsDeferral) {
  Pair<Adam, AdamOptions> p(AdamOptions(0.01), DType::f64);
  p.train(0, 12);
  // A penalty on the whole table: Graph::add settles it before the op reads it.
  for (Parameter* t : {p.plain.get(), p.deferred.get()}) {
    Graph g(Device::cpu());
    Expr penalty = 0.01 * sum(square(g.param(*t)));
    EXPECT_EQ(penalty.item(), 0.01 * [&] {
      double s = 0;
      for (double x : p.plain->value().to_vector()) s += x * x;
      return s;
    }());
    g.backward(penalty);
  }
  EXPECT_FALSE(p.deferred->row_gradients());
  p.op->step_and_zero_grad();
  p.od->step_and_zero_grad();
  p.train(12, 10);  // whole-table steps from now on, still equal
  for (int64_t r = 0; r < kRows; ++r) EXPECT_EQ(p.hook().pending(r), 0);
  p.expect_equal("after the whole-table use");
}

TEST(DeferredRowsReaders, ReadingAParamNodeSettlesTheTable) {
  Pair<Adam, AdamOptions> p(AdamOptions(0.01), DType::f32);
  p.train(0, 9);
  Graph gp(Device::cpu()), gd(Device::cpu());
  Expr np = gp.param(*p.plain), nd = gd.param(*p.deferred);
  EXPECT_EQ(nd.value().to_vector(), np.value().to_vector());
}

TEST(DeferredRowsReaders, CheckpointedStateResumesExactly) {
  Pair<Adam, AdamOptions> p(AdamOptions(0.01), DType::f64);
  p.train(0, 20);
  p.expect_equal("at the checkpoint");  // state() settles before handing out m and v
  // Resume a fresh table and optimizer from the deferred pair's checkpoint.
  auto table = make_table(DType::f64);
  table->value().copy_from(p.deferred->value());
  Adam resumed({table.get()}, AdamOptions(0.01));
  OptimizerState s = p.od->state();
  OptimizerState copy{s.kind, {}, s.scalars};
  for (auto& [name, t] : s.tensors) copy.tensors.emplace_back(name, t.to(Device::cpu()).clone());
  resumed.load_state(copy);
  for (int step = 20; step < 45; ++step) {
    Graph g(Device::cpu()), gp(Device::cpu());
    Expr l = loss_of(g, *table, ids_of(step), step), lp = loss_of(gp, *p.plain, ids_of(step), step);
    ASSERT_EQ(l.item(), lp.item()) << "step " << step;
    g.backward(l);
    gp.backward(lp);
    resumed.step_and_zero_grad();
    p.op->step_and_zero_grad();
  }
  EXPECT_EQ(table->value().to_vector(), p.plain->value().to_vector());
}

TEST(DeferredRowsReaders, ACopyIsASettledSnapshot) {
  Pair<Adam, AdamOptions> p(AdamOptions(0.01), DType::f64);
  p.train(0, 12);
  const Parameter copy = *p.deferred;
  EXPECT_EQ(copy.deferred(), nullptr);
  const std::vector<double> at_copy = p.plain->value().to_vector();
  EXPECT_EQ(copy.value().to_vector(), at_copy);
  p.train(12, 5);  // the original moves on; the copy does not
  EXPECT_EQ(copy.value().to_vector(), at_copy);
  p.expect_equal("after copying");
}

TEST(DeferredRowsReaders, DestroyingTheOptimizerSettlesTheTable) {
  Pair<Adam, AdamOptions> p(AdamOptions(0.01), DType::f64);
  p.train(0, 15);
  p.od.reset();
  EXPECT_EQ(p.deferred->deferred(), nullptr);
  EXPECT_EQ(p.deferred->value().to_vector(), p.plain->value().to_vector());
}

TEST(DeferredRowsReaders, AnOptimizerMayOutliveItsTable) {
  // A model destroyed before its optimizer (members declared in that order, say): the table's
  // destructor tells the optimizer, whose own destructor then leaves it alone (ASan checks).
  Pair<Adam, AdamOptions> p(AdamOptions(0.01), DType::f32);
  p.train(0, 7);
  DeferredAdamRows& hook = p.hook();
  int pending = 0;
  for (int64_t r = 0; r < kRows; ++r) pending = std::max(pending, hook.pending(r));
  ASSERT_GT(pending, 0);
  p.deferred.reset();
  // The table's destructor made the hook drop its pending steps (and the table with them).
  for (int64_t r = 0; r < kRows; ++r) EXPECT_EQ(hook.pending(r), 0) << "row " << r;
  p.od.reset();
}

TEST(DeferredRowsReaders, AutoBatchedLookupsSeeSettledRows) {
  Pair<Adam, AdamOptions> p(AdamOptions(0.01), DType::f32);
  for (int round = 0; round < 8; ++round) {
    // Three examples per update, recorded lazily and run as batched lookups.
    for (auto* which : {&p.plain, &p.deferred}) {
      Graph g(Device::cpu());
      Autobatch ab;
      g.set_executor(&ab);
      Expr total;
      for (int e = 0; e < 3; ++e) {
        Expr l = loss_of(g, **which, ids_of(round * 3 + e), round);
        total = e ? total + l : l;
      }
      g.backward(total);
      (which == &p.plain ? p.op : p.od)->step_and_zero_grad();
    }
  }
  p.expect_equal("after auto-batched training");
}

TEST(DeferredRowsReaders, StaticGraphLookupsSeeSettledRows) {
  Pair<Adam, AdamOptions> p(AdamOptions(0.01), DType::f64);
  struct Run {
    StaticGraph sg;
    IndexPlaceholder ids;
    Expr loss;
  };
  std::vector<std::unique_ptr<Run>> runs;
  for (Parameter* t : {p.plain.get(), p.deferred.get()}) {
    auto r = std::make_unique<Run>();
    r->ids = r->sg.index_placeholder("ids", 2);
    Graph& g = r->sg.graph();
    std::vector<double> c(2 * size_t(kDim), 0.5);
    r->loss = sum_batch(sum(lookup(g, *t, r->ids) * g.input(Shape({kDim}, 2), c, t->dtype())));
    r->sg.compile({}, r->loss);
    runs.push_back(std::move(r));
  }
  for (int step = 0; step < 30; ++step) {
    std::vector<int32_t> ids = ids_of(step);
    ids.resize(2);
    for (int k = 0; k < 2; ++k) {
      Run& r = *runs[size_t(k)];
      r.sg.feed_indices(r.ids, ids.data(), 2);
      r.sg.forward();
      r.sg.backward();
    }
    EXPECT_EQ(runs[1]->sg.value(runs[1]->loss).item(), runs[0]->sg.value(runs[0]->loss).item()) << step;
    p.op->step_and_zero_grad();
    p.od->step_and_zero_grad();
  }
  // Runs bind the table without settling it (it is only looked up): steps stay deferred.
  int pending = 0;
  for (int64_t r = 0; r < kRows; ++r) pending = std::max(pending, p.hook().pending(r));
  EXPECT_GT(pending, 5);
  p.expect_equal("after static-graph training");
}

TEST(DeferredRowsReaders, LookupsOnManyThreadsSettleTheirRows) {
  // Four graphs per update built on four threads at once, each with its own gradient buffer,
  // all looking up (and so settling) rows of the one deferred table, some the same rows. The
  // plain table gets the same buffers filled one after the other (the same sums in the same
  // order: a row looked up by two graphs is summed per buffer first).
  Pair<Adam, AdamOptions> p(AdamOptions(0.01), DType::f32);
  constexpr int kThreads = 4;
  std::vector<std::unique_ptr<GradientBuffer>> bufs, plain_bufs;
  for (int t = 0; t < kThreads; ++t) {
    bufs.push_back(std::make_unique<GradientBuffer>(std::vector<Parameter*>{p.deferred.get()}));
    plain_bufs.push_back(std::make_unique<GradientBuffer>(std::vector<Parameter*>{p.plain.get()}));
  }
  auto run = [&](Parameter& table, GradientBuffer& buf, int example, int step, double& loss) {
    Graph g(Device::cpu());
    g.set_gradients(&buf);
    Expr l = loss_of(g, table, ids_of(example), step);
    loss = l.item();
    g.backward(l);
  };
  for (int step = 0; step < 40; ++step) {
    std::vector<double> plain_losses(kThreads), losses(kThreads);
    for (int t = 0; t < kThreads; ++t)
      run(*p.plain, *plain_bufs[size_t(t)], step * kThreads + t, step, plain_losses[size_t(t)]);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t)
      threads.emplace_back([&, t] { run(*p.deferred, *bufs[size_t(t)], step * kThreads + t, step, losses[size_t(t)]); });
    for (std::thread& th : threads) th.join();
    for (auto& b : plain_bufs) b->reduce_into();
    for (auto& b : bufs) b->reduce_into();
    ASSERT_EQ(losses, plain_losses) << "step " << step;
    p.op->step_and_zero_grad();
    p.od->step_and_zero_grad();
  }
  p.expect_equal("after threaded training");
}

TEST(DeferredRowsReaders, ASecondOptimizerOnTheTableStreamsIt) {
  // Fine-tuning with a new optimizer while the first still exists: the first keeps the table's
  // deferred steps (settled before the second reads it), the second updates the whole table.
  Pair<Adam, AdamOptions> p(AdamOptions(0.01), DType::f64);
  p.train(0, 10);
  AdamOptions off(0.005);
  off.defer_untouched_rows(false);
  Adam second_plain({p.plain.get()}, off), second({p.deferred.get()}, AdamOptions(0.005));
  for (int step = 10; step < 20; ++step) {
    Graph gp(Device::cpu()), gd(Device::cpu());
    Expr lp = loss_of(gp, *p.plain, ids_of(step), step), ld = loss_of(gd, *p.deferred, ids_of(step), step);
    ASSERT_EQ(ld.item(), lp.item()) << "step " << step;
    gp.backward(lp);
    gd.backward(ld);
    second_plain.step_and_zero_grad();
    second.step_and_zero_grad();
  }
  p.expect_equal("after the second optimizer");
  p.train(20, 10);  // and back to the first
  p.expect_equal("back with the first");
}

TEST(DeferredRowsReaders, SparseTablesAreNotDeferred) {
  auto sparse = make_table(DType::f64);
  sparse->set_sparse(true);
  Adam o({sparse.get()}, AdamOptions(0.01));
  Graph g(Device::cpu());
  g.backward(loss_of(g, *sparse, {1, 2}, 0));
  o.step();
  EXPECT_EQ(sparse->deferred(), nullptr);
}

}  // namespace
}  // namespace flare::optim
