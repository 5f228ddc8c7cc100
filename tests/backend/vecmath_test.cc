// The CPU backend's vectorised float tanh, sigmoid and exp against libm in double precision.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "flare/backend.h"

namespace flare {
namespace {

double ulps(float got, double want) {
  const float w = std::fabs(float(want));
  const double ulp = double(std::nextafter(w, INFINITY)) - double(w);
  return std::fabs(double(got) - want) / ulp;
}

void check(Unary f, double (*ref)(double), float lo, float hi, double max_ulps, double abs_floor) {
  std::vector<float> x;
  for (float v = lo; v < hi; v += (hi - lo) / 200003.f) x.push_back(v);
  std::vector<float> y(x.size());
  backend(Device::cpu()).unary(f, DType::f32, y.data(), x.data(), int64_t(x.size()), 0);
  double worst = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    double want = ref(double(x[i]));
    if (std::fabs(want) < abs_floor) {
      EXPECT_NEAR(y[i], want, abs_floor) << "x = " << x[i];
      continue;
    }
    worst = std::max(worst, ulps(y[i], want));
    ASSERT_LE(ulps(y[i], want), max_ulps) << "x = " << x[i] << ": " << y[i] << " vs " << want;
  }
  ::testing::Test::RecordProperty("worst_ulps", std::to_string(worst));
}

double sigmoid_ref(double x) { return 1 / (1 + std::exp(-x)); }
double tanh_ref(double x) { return std::tanh(x); }
double exp_ref(double x) { return std::exp(x); }

TEST(VecMath, TanhWithinFourUlps) { check(Unary::Tanh, tanh_ref, -12.f, 12.f, 4, 1e-30); }
TEST(VecMath, TanhKeepsTinyInputs) { check(Unary::Tanh, tanh_ref, -1e-3f, 1e-3f, 4, 1e-30); }
TEST(VecMath, SigmoidWithinFourUlps) { check(Unary::Sigmoid, sigmoid_ref, -30.f, 30.f, 4, 1e-30); }
TEST(VecMath, ExpWithinFourUlps) { check(Unary::Exp, exp_ref, -80.f, 80.f, 4, 1e-30); }

TEST(VecMath, EdgesSaturate) {
  std::vector<float> x = {-1000.f, 1000.f, -100.f, 100.f, 0.f, -0.f, NAN};
  std::vector<float> y(x.size());
  Backend& be = backend(Device::cpu());
  x.resize(8, 0.f);
  y.resize(8);
  be.unary(Unary::Tanh, DType::f32, y.data(), x.data(), 8, 0);
  EXPECT_EQ(y[0], -1.f);
  EXPECT_EQ(y[1], 1.f);
  EXPECT_EQ(y[4], 0.f);
  EXPECT_TRUE(std::isnan(y[6]));
  be.unary(Unary::Sigmoid, DType::f32, y.data(), x.data(), 8, 0);
  EXPECT_EQ(y[0], 0.f);
  EXPECT_EQ(y[1], 1.f);
  be.unary(Unary::Exp, DType::f32, y.data(), x.data(), 8, 0);
  EXPECT_EQ(y[0], 0.f);
  EXPECT_TRUE(std::isinf(y[1]));
  EXPECT_EQ(y[4], 1.f);
}

}  // namespace
}  // namespace flare
