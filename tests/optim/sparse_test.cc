// Sparse (embedding-row) updates: equal to dense ones where the algorithm allows it, and the
// documented lazy behaviour where it does not.
#include <gtest/gtest.h>

#include <cmath>

#include "flare/flare.h"
#include "flare/optim.h"

namespace flare::optim {
namespace {

constexpr int64_t kRows = 6, kDim = 11;  // 11: a vector and a remainder per row

std::vector<double> table_values() {
  std::vector<double> v(size_t(kRows * kDim));
  for (size_t i = 0; i < v.size(); ++i) v[i] = std::sin(0.37 * double(i) + 0.1);
  return v;
}

Parameter make_table(bool sparse) {
  Parameter p("emb", Tensor::from(Shape{kRows, kDim}, table_values(), DType::f64));
  p.set_sparse(sparse);
  return p;
}

// Looks up `ids` and backpropagates sum_i <row(ids[i]), c_i> with fixed weights c depending on
// the step, so each touched row gets a known, non-zero gradient.
void backprop(Parameter& table, const std::vector<int32_t>& ids, int step) {
  Graph g(Device::cpu());
  std::vector<double> c(ids.size() * size_t(kDim));
  for (size_t i = 0; i < c.size(); ++i) c[i] = std::cos(0.11 * double(i) + step);
  Expr rows = lookup(g, table, ids);
  Expr w = g.input(Shape({kDim}, int64_t(ids.size())), c, DType::f64);
  g.backward(sum_batch(sum(rows * w)));
}

std::vector<double> row(const Tensor& t, int64_t r) { return t.rows(r, r + 1).to_vector(); }

const std::vector<std::vector<int32_t>> kSteps = {{1, 3, 1}, {3}, {0, 5, 3}, {2}};

template <typename Opt, typename Options>
void expect_sparse_equals_dense(const Options& options) {
  Parameter dense = make_table(false), sparse = make_table(true);
  Opt od({&dense}, options), os({&sparse}, options);
  for (size_t t = 0; t < kSteps.size(); ++t) {
    od.zero_grad();
    os.zero_grad();
    backprop(dense, kSteps[t], int(t));
    backprop(sparse, kSteps[t], int(t));
    od.step();
    os.step();
    ASSERT_EQ(dense.value().to_vector(), sparse.value().to_vector()) << "after step " << t + 1;
  }
}

TEST(SparseUpdates, SgdWithoutMomentumEqualsDense) {
  expect_sparse_equals_dense<Sgd>(SgdOptions(0.3));
}

TEST(SparseUpdates, AdagradWithoutWeightDecayEqualsDense) {
  expect_sparse_equals_dense<Adagrad>(AdagradOptions(0.3).lr_decay(0.1));
}

TEST(SparseUpdates, UntouchedRowsKeepValueAndStateWithWeightDecay) {
  // Dense SGD with weight decay shrinks every row; sparse SGD shrinks only touched ones.
  Parameter sparse = make_table(true);
  Sgd opt({&sparse}, SgdOptions(0.1).weight_decay(0.5).momentum(0.9));
  backprop(sparse, {2}, 0);
  opt.step();
  const Tensor before = make_table(false).value();
  for (int64_t r = 0; r < kRows; ++r) {
    if (r != 2) {
      EXPECT_EQ(row(sparse.value(), r), row(before, r)) << "row " << r;
    }
  }
  EXPECT_NE(row(sparse.value(), 2), row(before, 2));
  // The momentum buffer of untouched rows is still zero.
  Tensor buf = opt.state().tensors.at(0).second;
  EXPECT_EQ(row(buf, 0), std::vector<double>(size_t(kDim), 0.0));
}

TEST(SparseUpdates, LazyAdamRows) {
  const double lr = 0.01, b1 = 0.9, b2 = 0.999, eps = 1e-8;
  Parameter table = make_table(true);
  Adam opt({&table}, AdamOptions(lr));
  const std::vector<double> w0 = table.value().to_vector();

  // Step 1 touches rows 0 and 1.
  backprop(table, {0, 1}, 1);
  opt.step();
  OptimizerState s = opt.state();
  const Tensor m = s.tensors.at(0).second, v = s.tensors.at(1).second;
  const std::vector<double> m0 = row(m, 0), v0 = row(v, 0), w_row0 = row(table.value(), 0);
  opt.zero_grad();

  // Step 2 touches row 1 only: row 0's value, m and v do not change (no decay).
  backprop(table, {1}, 2);
  opt.step();
  EXPECT_EQ(row(table.value(), 0), w_row0);
  EXPECT_EQ(row(m, 0), m0);
  EXPECT_EQ(row(v, 0), v0);
  // Row 2 was never touched: still its initial value, zero moments.
  EXPECT_EQ(row(table.value(), 2), std::vector<double>(w0.begin() + 2 * kDim, w0.begin() + 3 * kDim));
  EXPECT_EQ(row(m, 2), std::vector<double>(size_t(kDim), 0.0));
  opt.zero_grad();

  // Step 3 touches rows 0 and 2. Row 0's moments decay once (not twice) from step 1; row 2
  // starts from zero moments with the bias correction of the global step t = 3.
  backprop(table, {2, 0}, 3);
  const std::vector<double> g0 = row(table.grad(), 0), g2 = row(table.grad(), 2);
  opt.step();
  const double bc1 = 1 - std::pow(b1, 3), bc2 = 1 - std::pow(b2, 3);
  const std::vector<double> w0_now = row(table.value(), 0), w2_now = row(table.value(), 2);
  for (int64_t k = 0; k < kDim; ++k) {
    const double mm0 = b1 * m0[size_t(k)] + (1 - b1) * g0[size_t(k)];
    const double vv0 = b2 * v0[size_t(k)] + (1 - b2) * g0[size_t(k)] * g0[size_t(k)];
    const double want0 = w_row0[size_t(k)] - lr / bc1 * mm0 / (std::sqrt(vv0) / std::sqrt(bc2) + eps);
    EXPECT_NEAR(w0_now[size_t(k)], want0, 1e-14);
    const double gk = g2[size_t(k)];
    const double mm2 = (1 - b1) * gk, vv2 = (1 - b2) * gk * gk;
    const double want2 = w0[size_t(2 * kDim + k)] - lr / bc1 * mm2 / (std::sqrt(vv2) / std::sqrt(bc2) + eps);
    EXPECT_NEAR(w2_now[size_t(k)], want2, 1e-14);
    EXPECT_NEAR(m.at(2 * kDim + k), mm2, 1e-15);
  }
}

TEST(SparseUpdates, NoTouchedRowsNoUpdate) {
  Parameter table = make_table(true);
  Adam opt({&table}, AdamOptions(0.1));
  opt.step();  // no lookup since zero_grad: nothing moves
  EXPECT_EQ(table.value().to_vector(), table_values());
  EXPECT_EQ(opt.step_count(), 1);
}

}  // namespace
}  // namespace flare::optim
