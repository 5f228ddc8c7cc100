#pragma once
// Helpers for the nn tests: the golden-file weight formula and a finite-difference gradient
// check over every parameter of a model.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include "flare/flare.h"
#include "flare/nn/nn.h"
#include "support/gradcheck.h"

namespace flare::nn::testing {

// Must match value() in tests/nn/golden/make_golden.py.
inline double formula(int t, int64_t k) { return 0.5 * std::sin(0.37 * double(k) + 1.3 * t + 0.2); }

// Element by element |a - b| <= tol, naming the first elements that differ.
inline void expect_near(const std::vector<double>& a, const std::vector<double>& b, double tol) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) EXPECT_NEAR(a[i], b[i], tol) << i;
}

inline Tensor formula_tensor(int t, const Shape& s, DType dt = DType::f64) {
  std::vector<double> v(static_cast<size_t>(s.total()));
  for (size_t k = 0; k < v.size(); ++k) v[k] = formula(t, int64_t(k));
  return Tensor::from(s, v, dt);
}

// Sets p to the sum of the formula tensors with the given ids.
inline void set_formula(Parameter& p, const std::vector<int>& ids) {
  std::vector<double> v(static_cast<size_t>(p.shape().total()), 0.0);
  for (int t : ids)
    for (size_t k = 0; k < v.size(); ++k) v[k] += formula(t, int64_t(k));
  p.value().copy_from(Tensor::from(p.shape(), v, DType::f64));
}

struct GradReport {
  bool ok = true;
  double max_error = 0;
  int64_t checked = 0;
  std::string detail;
};

// Checks d(loss)/d(every trainable parameter of m) against central differences, where
// loss = sum_j sum_batch(sum(outputs_j * R_j)) with fixed random R_j. `build` must rebuild the
// same function each call (random ops get the same graph seed every time). Also fails when a
// trainable parameter gets no gradient at all (a piece that is not connected).
// `extra` are more parameters to check (batched inputs, which a Model does not hold).
inline GradReport check_gradients(Model& m, const std::function<std::vector<Expr>(Graph&)>& build,
                                  const std::vector<Parameter*>& extra = {}, double tolerance = 1e-6,
                                  uint64_t seed = 5) {
  GradReport r;
  Graph g;
  std::vector<Tensor> weights;
  auto loss_of = [&]() {
    g.clear();
    g.set_seed(seed);
    std::vector<Expr> ys = build(g);
    if (weights.size() != ys.size()) {
      weights.clear();
      for (size_t j = 0; j < ys.size(); ++j)
        weights.push_back(Tensor::from(
            ys[j].shape(), flare::testing::random_values({ys[j].shape(), -1, 1}, seed * 17 + j), DType::f64));
    }
    std::vector<Expr> terms;
    for (size_t j = 0; j < ys.size(); ++j) terms.push_back(sum_batch(sum(ys[j] * g.input(weights[j]))));
    return terms.size() == 1 ? terms[0] : sum(terms);
  };
  std::vector<Parameter*> params = m.trainable_parameters();
  params.insert(params.end(), extra.begin(), extra.end());
  for (Parameter* p : params) p->zero_grad();
  Expr loss = loss_of();
  g.backward(loss);
  const double eps = 1e-6;
  for (Parameter* p : params) {
    std::vector<double> analytic = p->grad().to_vector();
    bool any = false;
    for (double a : analytic) any = any || a != 0.0;
    if (!any && r.ok) {
      r.ok = false;
      r.detail = "parameter " + p->name() + " got no gradient";
    }
    double* v = p->value().data<double>();
    for (int64_t k = 0; k < p->shape().total(); ++k) {
      const double orig = v[k];
      v[k] = orig + eps;
      const double lp = loss_of().item();
      v[k] = orig - eps;
      const double lm = loss_of().item();
      v[k] = orig;
      const double numeric = (lp - lm) / (2 * eps);
      const double err = std::fabs(analytic[size_t(k)] - numeric) / (1.0 + std::fabs(numeric));
      r.max_error = std::max(r.max_error, err);
      ++r.checked;
      if (err > tolerance && r.ok) {
        r.ok = false;
        std::ostringstream os;
        os << p->name() << " element " << k << ": analytic " << analytic[size_t(k)] << " vs numeric "
           << numeric;
        r.detail = os.str();
      }
    }
  }
  return r;
}

}  // namespace flare::nn::testing
