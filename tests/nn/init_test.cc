// Initialisers: PyTorch fan conventions, bounds and moments, orthogonality, and reproducibility.
#include <gtest/gtest.h>

#include <cmath>

#include "nn/nn_test_util.h"

namespace flare::nn {
namespace {

struct Moments {
  double mean = 0, var = 0, min = 1e300, max = -1e300;
};
Moments moments(const std::vector<double>& v) {
  Moments m;
  for (double x : v) {
    m.mean += x;
    m.min = std::min(m.min, x);
    m.max = std::max(m.max, x);
  }
  m.mean /= double(v.size());
  for (double x : v) m.var += (x - m.mean) * (x - m.mean);
  m.var /= double(v.size());
  return m;
}

TEST(Init, FansFollowPyTorch) {
  Fans f = fans(Shape{30, 20});  // [out, in]
  EXPECT_EQ(f.in, 20);
  EXPECT_EQ(f.out, 30);
  Fans c = fans(Shape{8, 4, 3, 3});  // a conv kernel: receptive field 9
  EXPECT_EQ(c.in, 36);
  EXPECT_EQ(c.out, 72);
  EXPECT_THROW(fans(Shape{5}), Error);
}

TEST(Init, GlorotUniformBoundAndVariance) {
  const Shape s{200, 300};
  const double bound = std::sqrt(6.0 / 500.0);
  Moments m = moments(sample(Init::glorot_uniform(), s, 7));
  EXPECT_LE(m.max, bound);
  EXPECT_GE(m.min, -bound);
  EXPECT_GT(m.max, 0.99 * bound);  // 60000 draws reach the ends
  EXPECT_LT(m.min, -0.99 * bound);
  EXPECT_NEAR(m.mean, 0.0, 0.003);
  EXPECT_NEAR(m.var, bound * bound / 3.0, 0.02 * bound * bound / 3.0);
  Moments g = moments(sample(Init::glorot_uniform(2.0), s, 7));
  EXPECT_NEAR(g.max, 2 * m.max, 1e-12);
}

TEST(Init, GlorotNormalNormalAndUniform) {
  Moments g = moments(sample(Init::glorot_normal(), Shape{200, 300}, 3));
  EXPECT_NEAR(g.mean, 0.0, 0.002);
  EXPECT_NEAR(std::sqrt(g.var), std::sqrt(2.0 / 500.0), 0.01 * std::sqrt(2.0 / 500.0));
  Moments n = moments(sample(Init::normal(1.5, 0.25), Shape{100000}, 4));
  EXPECT_NEAR(n.mean, 1.5, 0.005);
  EXPECT_NEAR(std::sqrt(n.var), 0.25, 0.005);
  Moments u = moments(sample(Init::uniform(-1, 3), Shape{100000}, 5));
  EXPECT_GE(u.min, -1.0);
  EXPECT_LT(u.max, 3.0);
  EXPECT_NEAR(u.mean, 1.0, 0.02);
  EXPECT_NEAR(u.var, 16.0 / 12.0, 0.02);
  EXPECT_EQ(sample(Init::zeros(), Shape{3}, 1), std::vector<double>(3, 0.0));
  EXPECT_EQ(sample(Init::ones(), Shape{3}, 1), std::vector<double>(3, 1.0));
  EXPECT_EQ(sample(Init::constant(-2.5), Shape{2}, 1), std::vector<double>(2, -2.5));
  EXPECT_THROW(sample(Init::uniform(1, 0), Shape{2}, 1), Error);
  EXPECT_THROW(sample(Init::normal(0, -1), Shape{2}, 1), Error);
}

// Q^T Q = I for tall matrices, Q Q^T = I for wide ones (times gain^2).
void expect_orthogonal(const Shape& s, double gain) {
  std::vector<double> q = sample(Init::orthogonal(gain), s, 11);
  const int64_t r = s.dim(0), c = s.size() / r;
  const bool tall = r >= c;
  const int64_t n = tall ? c : r;
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < n; ++j) {
      double d = 0;
      for (int64_t k = 0; k < (tall ? r : c); ++k)
        d += tall ? q[size_t(k * c + i)] * q[size_t(k * c + j)] : q[size_t(i * c + k)] * q[size_t(j * c + k)];
      EXPECT_NEAR(d, i == j ? gain * gain : 0.0, 1e-12) << s << " " << i << "," << j;
    }
}

TEST(Init, OrthogonalRowsOrColumns) {
  expect_orthogonal(Shape{6, 6}, 1.0);
  expect_orthogonal(Shape{12, 4}, 1.0);  // an LSTM's [4h, h]
  expect_orthogonal(Shape{3, 7}, 2.0);
  expect_orthogonal(Shape{4, 2, 3}, 1.0);
  EXPECT_THROW(sample(Init::orthogonal(), Shape{5}, 1), Error);
}

TEST(Init, SameSeedSameValuesOtherSeedOtherValues) {
  for (Init init : {Init::glorot_uniform(), Init::glorot_normal(), Init::uniform(-1, 1), Init::normal(0, 1),
                    Init::orthogonal()}) {
    EXPECT_EQ(sample(init, Shape{5, 4}, 9), sample(init, Shape{5, 4}, 9)) << init.str();
    EXPECT_NE(sample(init, Shape{5, 4}, 9), sample(init, Shape{5, 4}, 10)) << init.str();
  }
  EXPECT_EQ(Init::normal(0, 2).str(), "normal(mean=0, std=2)");
}

TEST(Init, ModelsAreReproducibleFromTheGlobalSeed) {
  auto values = [](uint64_t s) {
    manual_seed(s);
    Model m;
    Linear a(m, 4, 3, {}, "a");
    LSTMCell b(m, 3, 2);
    std::vector<std::vector<double>> v;
    for (Parameter* p : m.parameters()) v.push_back(p->value().to_vector());
    return v;
  };
  auto v1 = values(123), v2 = values(123), v3 = values(124);
  manual_seed(42);
  EXPECT_EQ(v1, v2);
  EXPECT_NE(v1[0], v3[0]);
  // Two parameters of one shape under different names get different values.
  Model m;
  EXPECT_NE(m.add_parameter("x", Shape{3, 3}).value().to_vector(),
            m.add_parameter("y", Shape{3, 3}).value().to_vector());
  // A parameter's values depend on its name, not on what was created before it.
  Model m1, m2;
  m1.add_parameter("first", Shape{2, 2});
  Parameter& p1 = m1.add_parameter("w", Shape{3, 3});
  Parameter& p2 = m2.add_parameter("w", Shape{3, 3});
  EXPECT_EQ(p1.value().to_vector(), p2.value().to_vector());
  // float32 models hold the float64 draws rounded.
  Model m32, m64(DType::f64);
  std::vector<double> a = m32.add_parameter("w", Shape{3, 3}).value().to_vector();
  std::vector<double> b = m64.add_parameter("w", Shape{3, 3}).value().to_vector();
  for (size_t i = 0; i < a.size(); ++i) EXPECT_EQ(a[i], double(float(b[i])));
}

TEST(Init, ModuleDefaults) {
  Model m;
  LSTMCell lstm(m, 5, 3);
  std::vector<double> b = lstm.b().value().to_vector();
  for (int k = 0; k < 12; ++k) EXPECT_EQ(b[size_t(k)], k >= 3 && k < 6 ? 1.0 : 0.0) << k;
  LSTMOptions o;
  o.forget_bias = 0.0;
  LSTMCell lstm0(m, 5, 3, o, "lstm0");
  EXPECT_EQ(lstm0.b().value().to_vector(), std::vector<double>(12, 0.0));
  Linear lin(m, 10, 6);
  EXPECT_EQ(lin.bias()->value().to_vector(), std::vector<double>(6, 0.0));
  for (double w : lin.weight().value().to_vector()) EXPECT_LE(std::fabs(w), std::sqrt(6.0 / 16.0));
  Embedding e(m, 50, 12);
  const double r = std::sqrt(3.0 / 12.0);
  Moments em = moments(e.table().value().to_vector());
  EXPECT_LE(em.max, r);
  EXPECT_GE(em.min, -r);
  EmbeddingOptions eo;
  eo.init = Init::zeros();
  Embedding ez(m, 5, 2, eo, "zeros");
  EXPECT_EQ(ez.table().value().to_vector(), std::vector<double>(10, 0.0));
  TreeLSTM tree(m, 4, 2);
  std::vector<double> tb = m.at("treelstm/node/gates/b").value().to_vector();
  EXPECT_EQ(tb, (std::vector<double>{0, 0, 1, 1, 1, 1, 0, 0, 0, 0}));
}

}  // namespace
}  // namespace flare::nn
