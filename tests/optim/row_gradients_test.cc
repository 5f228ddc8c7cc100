// Row gradients (Parameter::row_gradients): a densely updated table whose gradient comes only
// through lookups records the touched rows, and the CPU Adam kernel skips reading the other
// rows' gradients. The result must be bit for bit that of the plain dense update, the shortcut
// must really be taken, and any other use of the table must switch it off (or, for a sparse
// table, be refused).
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "flare/flare.h"
#include "flare/gradient_buffer.h"
#include "flare/nn/embedding.h"
#include "flare/optim.h"

namespace flare::optim {
namespace {

constexpr int64_t kRows = 9, kDim = 11;  // 11: a vector and a remainder per row

Parameter make_table(bool row_gradients, DType t = DType::f64) {
  std::vector<double> v(size_t(kRows * kDim));
  for (size_t i = 0; i < v.size(); ++i) v[i] = std::sin(0.37 * double(i) + 0.1);
  Parameter p("emb", Tensor::from(Shape{kRows, kDim}, v, t));
  p.set_row_gradients(row_gradients);
  return p;
}

// Backpropagates sum_i <row(ids[i]), c_i>, weights depending on the step; `whole` adds
// 0.01 * sum(table^2), a use of the whole table.
void backprop(Parameter& table, const std::vector<int32_t>& ids, int step, bool whole = false,
              GradientBuffer* buf = nullptr) {
  Graph g(Device::cpu());
  if (buf) g.set_gradients(buf);
  std::vector<double> c(ids.size() * size_t(kDim));
  for (size_t i = 0; i < c.size(); ++i) c[i] = std::cos(0.11 * double(i) + step);
  Expr loss = sum_batch(sum(lookup(g, table, ids) * g.input(Shape({kDim}, int64_t(ids.size())), c, table.dtype())));
  if (whole) loss = loss + 0.01 * sum(square(g.param(table)));
  g.backward(loss);
}

const std::vector<std::vector<int32_t>> kSteps = {{1, 3, 1}, {3}, {0, 8, 3}, {2}, {7, 6, 5, 4}};

// Runs both tables through the same steps and compares values, moments and gradients exactly.
template <typename Opt, typename Options>
void expect_same_as_dense(const Options& o, DType t, bool fused) {
  Parameter dense = make_table(false, t), rows = make_table(true, t);
  Opt od({&dense}, o), orow({&rows}, o);
  for (size_t s = 0; s < kSteps.size(); ++s) {
    backprop(dense, kSteps[s], int(s));
    backprop(rows, kSteps[s], int(s));
    ASSERT_TRUE(rows.row_gradients());
    if (fused) {
      od.step_and_zero_grad();
      orow.step_and_zero_grad();
    } else {
      od.step();
      orow.step();
      od.zero_grad();
      orow.zero_grad();
    }
    ASSERT_EQ(rows.value().to_vector(), dense.value().to_vector()) << "step " << s + 1;
    const OptimizerState a = od.state(), b = orow.state();
    for (size_t k = 0; k < a.tensors.size(); ++k)
      ASSERT_EQ(b.tensors[k].second.to_vector(), a.tensors[k].second.to_vector()) << a.tensors[k].first;
    ASSERT_EQ(rows.grad().to_vector(), std::vector<double>(size_t(kRows * kDim), 0.0));
    ASSERT_TRUE(rows.touched_rows().empty());
  }
}

class RowGradients : public ::testing::TestWithParam<DType> {};

TEST_P(RowGradients, AdamEqualsDenseBitForBit) {
  expect_same_as_dense<Adam>(AdamOptions(0.01), GetParam(), true);
  expect_same_as_dense<Adam>(AdamOptions(0.01), GetParam(), false);
}
TEST_P(RowGradients, AdamWithWeightDecayEqualsDense) {
  expect_same_as_dense<Adam>(AdamOptions(0.01).weight_decay(0.1), GetParam(), true);
}
TEST_P(RowGradients, AdamWEqualsDense) {
  expect_same_as_dense<AdamW>(AdamWOptions(0.01).weight_decay(0.1), GetParam(), true);
}
TEST_P(RowGradients, OtherOptimizersEqualDense) {
  expect_same_as_dense<Sgd>(SgdOptions(0.1).momentum(0.9), GetParam(), true);
  expect_same_as_dense<Adagrad>(AdagradOptions(0.1), GetParam(), true);
}

INSTANTIATE_TEST_SUITE_P(Optim, RowGradients, ::testing::Values(DType::f64, DType::f32),
                         [](const auto& info) { return std::string(dtype_name(info.param)); });

TEST(RowGradientsHint, UntouchedRowsGradientsAreNotRead) {
  // Break the contract on purpose: a NaN in an untouched row's gradient. The update must not
  // read it (the row moves as with a zero gradient), which shows the shortcut is taken.
  Parameter rows = make_table(true), dense = make_table(false);
  Adam orow({&rows}, AdamOptions(0.01)), od({&dense}, AdamOptions(0.01));
  backprop(rows, {1, 4}, 0);
  backprop(dense, {1, 4}, 0);
  static_cast<double*>(rows.grad().data())[2 * kDim + 5] = std::numeric_limits<double>::quiet_NaN();
  orow.step();
  od.step();
  EXPECT_EQ(rows.value().to_vector(), dense.value().to_vector());
}

TEST(RowGradientsHint, UsingTheTableWholeFallsBackToDense) {
  Parameter dense = make_table(false), rows = make_table(true);
  Adam od({&dense}, AdamOptions(0.01)), orow({&rows}, AdamOptions(0.01));
  backprop(dense, {1, 3}, 0);
  backprop(rows, {1, 3}, 0);  // rows only so far
  backprop(dense, {2}, 1, /*whole=*/true);
  backprop(rows, {2}, 1, /*whole=*/true);  // every row now has a gradient
  EXPECT_FALSE(rows.row_gradients());
  od.step_and_zero_grad();
  orow.step_and_zero_grad();
  EXPECT_EQ(rows.value().to_vector(), dense.value().to_vector());
  EXPECT_EQ(rows.grad().to_vector(), std::vector<double>(size_t(kRows * kDim), 0.0));
  // For good: later lookup-only steps stay dense, and still agree.
  backprop(dense, {4}, 2);
  backprop(rows, {4}, 2);
  od.step_and_zero_grad();
  orow.step_and_zero_grad();
  EXPECT_FALSE(rows.row_gradients());
  EXPECT_EQ(rows.value().to_vector(), dense.value().to_vector());
}

TEST(RowGradientsHint, GradientBuffersCarryTheRows) {
  Parameter dense = make_table(false), rows = make_table(true);
  Adam od({&dense}, AdamOptions(0.01)), orow({&rows}, AdamOptions(0.01));
  GradientBuffer b1({&rows}), b2({&rows});
  for (int s = 0; s < 3; ++s) {
    backprop(dense, {1, 3}, s);
    backprop(dense, {3, 6}, s + 10);
    backprop(rows, {1, 3}, s, false, &b1);
    backprop(rows, {3, 6}, s + 10, false, &b2);
    b1.reduce_into();
    b2.reduce_into();
    EXPECT_EQ(rows.touched_rows(), (std::vector<int32_t>{1, 3, 6}));
    od.step_and_zero_grad();
    orow.step_and_zero_grad();
    ASSERT_EQ(rows.value().to_vector(), dense.value().to_vector()) << "step " << s + 1;
  }
}

TEST(RowGradientsHint, ASparseTableUsedWholeIsAnError) {
  Parameter table = make_table(false);
  table.set_sparse(true);
  Graph g(Device::cpu());
  try {
    square(g.param(table));
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("square: parameter emb has sparse row updates"), std::string::npos)
        << e.what();
  }
  // A frozen sparse table is only read: no gradient, no error.
  table.set_trainable(false);
  Graph g2(Device::cpu());
  EXPECT_NO_THROW(square(g2.param(table)));
}

TEST(RowGradientsHint, DenseTrainableEmbeddingsUseIt) {
  nn::Model m;
  nn::Embedding dense(m, 10, 4, nn::EmbeddingOptions{}, "dense");
  nn::Embedding sparse(m, 10, 4, nn::EmbeddingOptions{true, {}}, "sparse");
  EXPECT_TRUE(dense.table().row_gradients());
  EXPECT_FALSE(sparse.table().row_gradients());
  EXPECT_TRUE(sparse.table().sparse());
}

}  // namespace
}  // namespace flare::optim
