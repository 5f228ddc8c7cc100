// step_and_zero_grad() clears gradients inside the fused update kernels: it must give exactly
// the values of step() followed by zero_grad(), leave every gradient zero (sparse tables: their
// touched rows forgotten too), and handle frozen parameters, for every optimizer and dtype.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "flare/flare.h"
#include "flare/optim.h"

namespace flare::optim {
namespace {

constexpr int64_t kRows = 7, kDim = 13;  // 13: a vector and a remainder per row

struct Model {
  Parameter table, W, frozen;
  explicit Model(DType t)
      : table("table", values(Shape{kRows, kDim}, 0.3, t)),
        W("W", values(Shape{5, 9}, 0.7, t)),
        frozen("frozen", values(Shape{4}, 0.9, t), /*trainable=*/false) {
    table.set_sparse(true);
  }
  static Tensor values(const Shape& s, double phase, DType t) {
    std::vector<double> v(size_t(s.total()));
    for (size_t i = 0; i < v.size(); ++i) v[i] = std::sin(0.37 * double(i) + phase);
    return Tensor::from(s, v, t);
  }
  std::vector<Parameter*> params() { return {&table, &W, &frozen}; }
};

// A loss using rows `ids` of the table, all of W and the frozen vector.
void backprop(Model& m, const std::vector<int32_t>& ids, int step) {
  Graph g;
  const DType t = m.W.dtype();
  std::vector<double> c(ids.size() * size_t(kDim));
  for (size_t i = 0; i < c.size(); ++i) c[i] = std::cos(0.11 * double(i) + step);
  Expr rows = lookup(g, m.table, ids);
  Expr w = g.input(Shape({kDim}, int64_t(ids.size())), c, t);
  Expr x = g.input(Shape{9}, std::vector<double>(9, 0.5 + 0.1 * step), t);
  Expr loss = sum_batch(sum(rows * w)) + sum(tanh(matmul(g.param(m.W), x))) + sum(g.param(m.frozen));
  g.backward(loss);
}

const std::vector<std::vector<int32_t>> kSteps = {{1, 3, 1}, {3}, {0, 6, 3}, {2}};

template <typename Opt, typename Options>
void expect_same_as_two_calls(const Options& o, DType t) {
  Model a(t), b(t);
  Opt oa(a.params(), o), ob(b.params(), o);
  for (size_t s = 0; s < kSteps.size(); ++s) {
    backprop(a, kSteps[s], int(s));
    backprop(b, kSteps[s], int(s));
    oa.step();
    oa.zero_grad();
    ob.step_and_zero_grad();
    for (size_t i = 0; i < a.params().size(); ++i) {
      Parameter& pa = *a.params()[i];
      Parameter& pb = *b.params()[i];
      ASSERT_EQ(pa.value().to_vector(), pb.value().to_vector()) << pa.name() << " after step " << s + 1;
      for (double g : pb.grad().to_vector()) ASSERT_EQ(g, 0.0) << pb.name() << " after step " << s + 1;
    }
    EXPECT_TRUE(b.table.touched_rows().empty());
    EXPECT_EQ(oa.step_count(), ob.step_count());
  }
  // The optimizer state matches too.
  const OptimizerState sa = oa.state(), sb = ob.state();
  ASSERT_EQ(sa.tensors.size(), sb.tensors.size());
  for (size_t i = 0; i < sa.tensors.size(); ++i)
    EXPECT_EQ(sa.tensors[i].second.to_vector(), sb.tensors[i].second.to_vector()) << sa.tensors[i].first;
}

class StepAndZeroGrad : public ::testing::TestWithParam<DType> {};

TEST_P(StepAndZeroGrad, Sgd) {
  expect_same_as_two_calls<Sgd>(SgdOptions(0.3), GetParam());
  expect_same_as_two_calls<Sgd>(SgdOptions(0.3).momentum(0.9).weight_decay(0.01), GetParam());
}
TEST_P(StepAndZeroGrad, Adagrad) { expect_same_as_two_calls<Adagrad>(AdagradOptions(0.2), GetParam()); }
TEST_P(StepAndZeroGrad, Adadelta) { expect_same_as_two_calls<Adadelta>(AdadeltaOptions(1.0), GetParam()); }
TEST_P(StepAndZeroGrad, Adam) {
  expect_same_as_two_calls<Adam>(AdamOptions(0.01), GetParam());
  expect_same_as_two_calls<AdamW>(AdamWOptions(0.01), GetParam());
}

INSTANTIATE_TEST_SUITE_P(Dtypes, StepAndZeroGrad, ::testing::Values(DType::f32, DType::f64),
                         [](const auto& info) { return std::string(dtype_name(info.param)); });

}  // namespace
}  // namespace flare::optim
