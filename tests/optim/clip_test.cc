#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "flare/error.h"
#include "flare/optim/clip.h"

namespace flare::optim {
namespace {

Parameter with_grad(const std::string& name, const Shape& s, const std::vector<double>& g) {
  Parameter p(name, Tensor::zeros(s, DType::f64));
  p.grad().copy_from(Tensor::from(s, g, DType::f64));
  return p;
}

TEST(ClipGradNorm, ScalesWhenAboveTheLimit) {
  Parameter a = with_grad("a", Shape{2}, {3, 0});
  Parameter b = with_grad("b", Shape{1, 1}, {4});  // norm sqrt(9 + 16) = 5
  EXPECT_DOUBLE_EQ(grad_norm({&a, &b}), 5.0);
  EXPECT_DOUBLE_EQ(clip_grad_norm({&a, &b}, 1.0), 5.0);
  const double c = 1.0 / (5.0 + 1e-6);
  EXPECT_DOUBLE_EQ(a.grad().at(0), 3 * c);
  EXPECT_DOUBLE_EQ(b.grad().at(0), 4 * c);
  EXPECT_NEAR(grad_norm({&a, &b}), 1.0, 1e-6);
}

TEST(ClipGradNorm, LeavesSmallGradientsAlone) {
  Parameter a = with_grad("a", Shape{2}, {0.3, 0.4});
  EXPECT_DOUBLE_EQ(clip_grad_norm({&a}, 1.0), 0.5);
  EXPECT_EQ(a.grad().to_vector(), (std::vector<double>{0.3, 0.4}));
}

TEST(ClipGradNorm, Float32SumsInDouble) {
  // 100000 values of 0.001 in float: norm sqrt(100000) * 0.001.
  Parameter a("a", Tensor::zeros(Shape{100000}));
  a.grad().fill(0.001);
  EXPECT_NEAR(grad_norm({&a}), std::sqrt(100000.0) * double(0.001f), 1e-9);
}

TEST(ClipGradNorm, SparseCountsTouchedRowsAndFrozenNothing) {
  Parameter table = with_grad("t", Shape{4, 2}, {0, 0, 1, 2, 9, 9, 2, 0});
  table.set_sparse(true);
  const int32_t rows[] = {1, 3};
  table.mark_rows(rows, 2);  // row 2's 9s are stale: not counted, not scaled
  Parameter frozen = with_grad("f", Shape{1}, {100});
  frozen.set_trainable(false);
  EXPECT_DOUBLE_EQ(grad_norm({&table, &frozen}), 3.0);  // sqrt(1 + 4 + 4)
  clip_grad_norm({&table, &frozen}, 1.5);
  const double c = 1.5 / (3.0 + 1e-6);
  EXPECT_DOUBLE_EQ(table.grad().at(2), c);
  EXPECT_DOUBLE_EQ(table.grad().at(4), 9.0);
  EXPECT_DOUBLE_EQ(table.grad().at(6), 2 * c);
  EXPECT_DOUBLE_EQ(frozen.grad().at(0), 100.0);
}

TEST(ClipGradNorm, NonFiniteNormIsReportedAndNothingChanges) {
  Parameter a = with_grad("a", Shape{2}, {std::numeric_limits<double>::quiet_NaN(), 1});
  Parameter b = with_grad("b", Shape{1}, {7});
  EXPECT_TRUE(std::isnan(clip_grad_norm({&a, &b}, 1.0)));
  EXPECT_EQ(b.grad().at(0), 7.0);
  EXPECT_THROW(clip_grad_norm({&b}, -1), Error);
}

}  // namespace
}  // namespace flare::optim
