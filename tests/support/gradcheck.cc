#include "support/gradcheck.h"

#include <cmath>
#include <memory>
#include <random>
#include <sstream>

namespace flare::testing {

std::vector<double> random_values(const ArgSpec& a, uint64_t seed) {
  std::mt19937_64 gen(seed);
  std::uniform_real_distribution<double> u(a.lo, a.hi);
  std::vector<double> v(size_t(a.shape.total()));
  for (double& x : v) {
    x = u(gen);
    if (std::fabs(x) < 0.05 && a.lo < -0.05) x += x < 0 ? -0.1 : 0.1;
  }
  return v;
}

GradcheckResult gradcheck(const OpSample& s, uint64_t seed, double tolerance) {
  GradcheckResult r;
  std::vector<std::unique_ptr<Parameter>> params;
  for (size_t i = 0; i < s.args.size(); ++i) {
    const ArgSpec& a = s.args[i];
    params.push_back(std::make_unique<Parameter>(
        "arg" + std::to_string(i), Tensor::from(a.shape, random_values(a, seed * 131 + i), DType::f64)));
  }
  Graph g;
  Tensor weights;
  // The loss: sum over the batch of sum(y * R), so every output element gets its own weight.
  auto loss_of = [&](bool debug) {
    g.clear();
    g.set_seed(seed);  // random ops draw the same numbers on every rebuild
    g.set_debug_checks(debug);
    std::vector<Expr> args;
    for (auto& p : params) args.push_back(g.param(*p));
    Expr y = s.build(args);
    if (!weights.defined() || weights.shape() != y.shape())
      weights = Tensor::from(y.shape(), random_values({y.shape(), -1, 1}, seed + 7), DType::f64);
    Expr loss = sum_batch(sum(y * g.input(weights)));
    g.set_debug_checks(false);
    return loss;
  };

  for (auto& p : params) p->zero_grad();
  Expr loss = loss_of(true);
  g.backward(loss);
  const double eps = 1e-6;
  for (size_t i = 0; i < params.size(); ++i) {
    Parameter& p = *params[i];
    std::vector<double> analytic = p.grad().to_vector();
    double* v = p.value().data<double>();
    for (int64_t k = 0; k < p.shape().total(); ++k) {
      const double orig = v[k];
      v[k] = orig + eps;
      const double lp = loss_of(false).item();
      v[k] = orig - eps;
      const double lm = loss_of(false).item();
      v[k] = orig;
      const double numeric = (lp - lm) / (2 * eps);
      const double err = std::fabs(analytic[size_t(k)] - numeric) / (1.0 + std::fabs(numeric));
      if (err > r.max_error) r.max_error = err;
      if (err > tolerance && r.ok) {
        r.ok = false;
        std::ostringstream os;
        os << "argument " << i << " element " << k << ": analytic " << analytic[size_t(k)]
           << " vs numeric " << numeric;
        r.detail = os.str();
      }
    }
  }
  return r;
}

}  // namespace flare::testing
