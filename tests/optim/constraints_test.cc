#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "flare/error.h"
#include "flare/optim/constraints.h"

namespace flare::optim {
namespace {

Parameter with_value(const std::string& name, const Shape& s, const std::vector<double>& v, DType t = DType::f64) {
  return Parameter(name, Tensor::from(s, v, t));
}

TEST(MaxNormRows, ScalesOnlyRowsAboveTheLimit) {
  // Rows of norm 5, 1 and 13 (and one exactly at the limit, 3).
  Parameter w = with_value("W", Shape{4, 2}, {3, 4, 0.6, 0.8, 5, 12, 0, 3});
  EXPECT_EQ(max_norm_rows(w, 3.0), 2);
  const std::vector<double> v = w.value().to_vector();
  EXPECT_DOUBLE_EQ(v[0], 3 * 3.0 / 5);
  EXPECT_DOUBLE_EQ(v[1], 4 * 3.0 / 5);
  EXPECT_EQ(v[2], 0.6);  // below the limit: untouched, bit for bit
  EXPECT_EQ(v[3], 0.8);
  EXPECT_DOUBLE_EQ(v[4], 5 * 3.0 / 13);
  EXPECT_DOUBLE_EQ(v[5], 12 * 3.0 / 13);
  EXPECT_EQ(v[6], 0.0);  // at the limit: untouched
  EXPECT_EQ(v[7], 3.0);
  EXPECT_NEAR(std::hypot(v[0], v[1]), 3.0, 1e-12);
  EXPECT_NEAR(std::hypot(v[4], v[5]), 3.0, 1e-12);
  EXPECT_EQ(max_norm_rows(w, 3.0 + 1e-9), 0);  // a second pass changes nothing
}

TEST(MaxNormRows, ARowIsEverythingUnderOneFirstIndex) {
  // [2, 2, 4]: row 0 holds 8 ones (norm sqrt(8)), row 1 holds 8 halves (norm sqrt(2)).
  Parameter w = with_value("W", Shape{2, 2, 4}, {1, 1, 1, 1, 1, 1, 1, 1, .5, .5, .5, .5, .5, .5, .5, .5});
  EXPECT_EQ(max_norm_rows(w, 2.0), 1);
  const std::vector<double> v = w.value().to_vector();
  for (int i = 0; i < 8; ++i) EXPECT_DOUBLE_EQ(v[i], 2.0 / std::sqrt(8.0));
  for (int i = 8; i < 16; ++i) EXPECT_EQ(v[i], 0.5);
}

TEST(MaxNormRows, VectorRowsAreSingleElementsAndFloat32Works) {
  Parameter b = with_value("b", Shape{3}, {-4, 1, 2.5}, DType::f32);
  EXPECT_EQ(max_norm_rows(b, 2.0), 2);
  EXPECT_FLOAT_EQ(float(b.value().at(0)), -2.0f);
  EXPECT_FLOAT_EQ(float(b.value().at(1)), 1.0f);
  EXPECT_FLOAT_EQ(float(b.value().at(2)), 2.0f);
}

TEST(MaxNormRows, RejectsBadLimitsNamingTheParameter) {
  Parameter w = with_value("out/W", Shape{1, 2}, {3, 4});
  for (double bad : {0.0, -1.0, std::numeric_limits<double>::quiet_NaN()}) {
    try {
      max_norm_rows(w, bad);
      FAIL() << "no error for max_norm " << bad;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("max_norm_rows: max_norm must be > 0"), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("out/W"), std::string::npos) << e.what();
    }
  }
  EXPECT_EQ(w.value().to_vector(), (std::vector<double>{3, 4}));
}

}  // namespace
}  // namespace flare::optim
