// Each optimizer's update against its formula written out per element in plain doubles, over
// several steps with varying gradients; plus a few values worked out on paper.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <random>

#include "flare/error.h"
#include "flare/optim.h"

namespace flare::optim {
namespace {

// 37 elements: more than one vector of any width, with a remainder.
constexpr int64_t kN = 37;

std::vector<double> random_vector(uint64_t seed, double lo = -1, double hi = 1) {
  std::mt19937_64 gen(seed);
  std::uniform_real_distribution<double> u(lo, hi);
  std::vector<double> v(static_cast<size_t>(kN));
  for (double& x : v) x = u(gen);
  return v;
}

void set_grad(Parameter& p, const std::vector<double>& g) {
  p.grad().copy_from(Tensor::from(p.shape(), g, p.dtype()));
}

// Runs `steps` steps of `opt` on p with gradients random_vector(100 + t), and the reference
// `ref(t, w, g)` (which updates w in place with its own state) on a copy of the initial values;
// compares after every step.
void expect_matches(Optimizer& opt, Parameter& p, int steps,
                    const std::function<void(int, std::vector<double>&, const std::vector<double>&)>& ref,
                    double tol = 1e-13) {
  std::vector<double> w = p.value().to_vector();
  for (int t = 1; t <= steps; ++t) {
    std::vector<double> g = random_vector(100 + uint64_t(t));
    set_grad(p, g);
    opt.step();
    ref(t, w, g);
    std::vector<double> got = p.value().to_vector();
    for (size_t i = 0; i < w.size(); ++i)
      ASSERT_NEAR(got[i], w[i], tol * (1 + std::fabs(w[i]))) << "step " << t << " element " << i;
  }
}

Parameter make_param(DType t = DType::f64) {
  return Parameter("w", Tensor::from(Shape{kN}, random_vector(7), t));
}

// ---- SGD ----

TEST(Sgd, HandWorkedMomentumAndNesterov) {
  // lr 0.1, momentum 0.9, w = 1, g = 1 every step.
  Parameter a("a", Tensor::from(Shape{1}, {1.0}, DType::f64));
  Parameter b("b", Tensor::from(Shape{1}, {1.0}, DType::f64));
  Sgd heavy({&a}, SgdOptions(0.1).momentum(0.9));
  Sgd nesterov({&b}, SgdOptions(0.1).momentum(0.9).nesterov(true));
  const double want_heavy[] = {0.9, 0.71, 0.439};  // buffers 1, 1.9, 2.71
  const double want_nest[] = {0.81, 0.539, 0.1951};  // steps 1.9, 2.71, 3.439
  for (int t = 0; t < 3; ++t) {
    a.grad().fill(1);
    b.grad().fill(1);
    heavy.step();
    nesterov.step();
    EXPECT_NEAR(a.value().item(), want_heavy[t], 1e-14);
    EXPECT_NEAR(b.value().item(), want_nest[t], 1e-14);
  }
}

struct SgdCase {
  double momentum, dampening, weight_decay;
  bool nesterov;
};

void PrintTo(const SgdCase& c, std::ostream* os) {
  *os << "momentum " << c.momentum << " dampening " << c.dampening << " weight_decay "
      << c.weight_decay << (c.nesterov ? " nesterov" : "");
}

class SgdVariants : public ::testing::TestWithParam<SgdCase> {};

TEST_P(SgdVariants, MatchesFormula) {
  const SgdCase c = GetParam();
  Parameter p = make_param();
  const double lr = 0.05;
  Sgd opt({&p}, SgdOptions(lr).momentum(c.momentum).dampening(c.dampening)
                    .weight_decay(c.weight_decay).nesterov(c.nesterov));
  std::vector<double> buf(static_cast<size_t>(kN));
  expect_matches(opt, p, 5, [&](int t, std::vector<double>& w, const std::vector<double>& g) {
    for (size_t i = 0; i < w.size(); ++i) {
      double d = g[i] + c.weight_decay * w[i];
      if (c.momentum != 0) {
        buf[i] = t == 1 ? d : c.momentum * buf[i] + (1 - c.dampening) * d;
        d = c.nesterov ? d + c.momentum * buf[i] : buf[i];
      }
      w[i] -= lr * d;
    }
  });
}

INSTANTIATE_TEST_SUITE_P(Optim, SgdVariants,
                         ::testing::Values(SgdCase{0, 0, 0, false}, SgdCase{0, 0, 0.01, false},
                                           SgdCase{0.9, 0, 0, false}, SgdCase{0.9, 0.3, 0.01, false},
                                           SgdCase{0.8, 0, 0.02, true}));

TEST(Sgd, RejectsBadOptions) {
  Parameter p = make_param();
  EXPECT_THROW(Sgd({&p}, SgdOptions(-1)), Error);
  EXPECT_THROW(Sgd({&p}, SgdOptions(0.1).momentum(-0.5)), Error);
  EXPECT_THROW(Sgd({&p}, SgdOptions(0.1).nesterov(true)), Error);
  EXPECT_THROW(Sgd({&p}, SgdOptions(0.1).momentum(0.9).dampening(0.1).nesterov(true)), Error);
  EXPECT_THROW(Sgd({&p, &p}), Error);
  EXPECT_THROW(Sgd({nullptr}), Error);
  Parameter unnamed("", Tensor::zeros(Shape{2}));
  EXPECT_THROW(Sgd({&unnamed}), Error);
  try {
    Adam({&p}, AdamOptions().beta1(1.0));
    FAIL() << "beta1 = 1 accepted";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), "adam: beta1 must be in [0, 1), got 1");
  }
}

// ---- Adagrad ----

TEST(Adagrad, MatchesFormula) {
  Parameter p = make_param();
  const double lr = 0.1, decay = 0.05, wd = 0.01, init = 0.2, eps = 1e-10;
  Adagrad opt({&p}, AdagradOptions(lr).lr_decay(decay).weight_decay(wd)
                        .initial_accumulator_value(init).eps(eps));
  std::vector<double> sum(size_t(kN), init);
  expect_matches(opt, p, 5, [&](int t, std::vector<double>& w, const std::vector<double>& g) {
    const double clr = lr / (1 + (t - 1) * decay);
    for (size_t i = 0; i < w.size(); ++i) {
      const double d = g[i] + wd * w[i];
      sum[i] += d * d;
      w[i] -= clr * d / (std::sqrt(sum[i]) + eps);
    }
  });
}

TEST(Adagrad, FirstStepIsLrTimesSign) {
  // s = g^2, so w -= lr * g / |g| (up to eps).
  Parameter p("p", Tensor::from(Shape{2}, {1.0, 1.0}, DType::f64));
  Adagrad opt({&p}, AdagradOptions(0.5));
  set_grad(p, {4.0, -0.25});
  opt.step();
  EXPECT_NEAR(p.value().at(0), 0.5, 1e-9);
  EXPECT_NEAR(p.value().at(1), 1.5, 1e-9);
}

// ---- Adadelta ----

TEST(Adadelta, MatchesFormulaWithPyTorchDefaults) {
  Parameter p = make_param();
  Adadelta opt({&p});
  EXPECT_EQ(opt.options().lr(), 1.0);
  EXPECT_EQ(opt.options().rho(), 0.9);
  EXPECT_EQ(opt.options().eps(), 1e-6);
  std::vector<double> sq(static_cast<size_t>(kN)), acc(static_cast<size_t>(kN));
  expect_matches(opt, p, 6, [&](int, std::vector<double>& w, const std::vector<double>& g) {
    for (size_t i = 0; i < w.size(); ++i) {
      sq[i] = 0.9 * sq[i] + 0.1 * g[i] * g[i];
      const double d = std::sqrt(acc[i] + 1e-6) / std::sqrt(sq[i] + 1e-6) * g[i];
      acc[i] = 0.9 * acc[i] + 0.1 * d * d;
      w[i] -= d;
    }
  });
}

TEST(Adadelta, WeightDecayAndLr) {
  Parameter p = make_param();
  const double lr = 0.5, rho = 0.95, eps = 1e-5, wd = 0.1;
  Adadelta opt({&p}, AdadeltaOptions(lr).rho(rho).eps(eps).weight_decay(wd));
  std::vector<double> sq(static_cast<size_t>(kN)), acc(static_cast<size_t>(kN));
  expect_matches(opt, p, 4, [&](int, std::vector<double>& w, const std::vector<double>& g) {
    for (size_t i = 0; i < w.size(); ++i) {
      const double gd = g[i] + wd * w[i];
      sq[i] = rho * sq[i] + (1 - rho) * gd * gd;
      const double d = std::sqrt(acc[i] + eps) / std::sqrt(sq[i] + eps) * gd;
      acc[i] = rho * acc[i] + (1 - rho) * d * d;
      w[i] -= lr * d;
    }
  });
}

// ---- Adam / AdamW ----

void adam_reference(int t, std::vector<double>& w, const std::vector<double>& g,
                    std::vector<double>& m, std::vector<double>& v, double lr, double b1,
                    double b2, double eps, double wd, bool decoupled) {
  const double bc1 = 1 - std::pow(b1, t), bc2 = 1 - std::pow(b2, t);
  for (size_t i = 0; i < w.size(); ++i) {
    double gi = g[i];
    if (decoupled)
      w[i] *= 1 - lr * wd;
    else
      gi += wd * w[i];
    m[i] = b1 * m[i] + (1 - b1) * gi;
    v[i] = b2 * v[i] + (1 - b2) * gi * gi;
    w[i] -= lr / bc1 * m[i] / (std::sqrt(v[i]) / std::sqrt(bc2) + eps);
  }
}

TEST(Adam, FirstStepMovesByLr) {
  // m/bias1 = g and sqrt(v/bias2) = |g|: each weight moves by lr against its gradient's sign.
  Parameter p("p", Tensor::from(Shape{3}, {0.0, 0.0, 0.0}, DType::f64));
  Adam opt({&p}, AdamOptions(0.01));
  set_grad(p, {2.0, -3.0, 0.5});
  opt.step();
  // Exactly: lr * g / (|g| + eps).
  EXPECT_NEAR(p.value().at(0), -0.01 * 2 / (2 + 1e-8), 1e-16);
  EXPECT_NEAR(p.value().at(1), 0.01 * 3 / (3 + 1e-8), 1e-16);
  EXPECT_NEAR(p.value().at(2), -0.01 * 0.5 / (0.5 + 1e-8), 1e-16);
}

TEST(Adam, MatchesFormula) {
  for (double wd : {0.0, 0.05}) {
    Parameter p = make_param();
    Adam opt({&p}, AdamOptions(0.01).betas(0.8, 0.95).eps(1e-6).weight_decay(wd));
    std::vector<double> m(static_cast<size_t>(kN)), v(static_cast<size_t>(kN));
    expect_matches(opt, p, 6, [&](int t, std::vector<double>& w, const std::vector<double>& g) {
      adam_reference(t, w, g, m, v, 0.01, 0.8, 0.95, 1e-6, wd, false);
    });
  }
}

TEST(AdamW, MatchesFormulaWithDecoupledDecay) {
  Parameter p = make_param();
  AdamW opt({&p}, AdamWOptions(0.02));
  EXPECT_EQ(opt.kind(), "adamw");
  std::vector<double> m(static_cast<size_t>(kN)), v(static_cast<size_t>(kN));
  expect_matches(opt, p, 6, [&](int t, std::vector<double>& w, const std::vector<double>& g) {
    adam_reference(t, w, g, m, v, 0.02, 0.9, 0.999, 1e-8, 1e-2, true);
  });
}

TEST(Adam, Float32FollowsTheSameFormula) {
  Parameter p = make_param(DType::f32);
  Adam opt({&p}, AdamOptions(0.01));
  std::vector<double> m(static_cast<size_t>(kN)), v(static_cast<size_t>(kN));
  expect_matches(
      opt, p, 5,
      [&](int t, std::vector<double>& w, const std::vector<double>& g) {
        // The kernel computes in float from float values: round the reference's inputs alike.
        for (double& x : w) x = double(float(x));
        std::vector<double> gf(g.size());
        for (size_t i = 0; i < g.size(); ++i) gf[i] = double(float(g[i]));
        adam_reference(t, w, gf, m, v, 0.01, 0.9, 0.999, 1e-8, 0, false);
      },
      1e-5);
}

TEST(Optimizer, SkipsFrozenParametersAndGivesThemNoState) {
  Parameter p = make_param();
  Parameter frozen("frozen", Tensor::from(Shape{2}, {1.0, 2.0}, DType::f64), false);
  frozen.grad().fill(1);
  Adam opt({&p, &frozen});
  p.grad().fill(1);
  opt.step();
  EXPECT_EQ(frozen.value().to_vector(), (std::vector<double>{1.0, 2.0}));
  OptimizerState s = opt.state();
  ASSERT_EQ(s.tensors.size(), 2u);
  EXPECT_EQ(s.tensors[0].first, "w/adam/m");
  EXPECT_EQ(s.tensors[1].first, "w/adam/v");
  EXPECT_EQ(s.scalars.at("step"), 1.0);
}

TEST(Optimizer, ZeroGradClearsEveryGradient) {
  Parameter p = make_param();
  Sgd opt({&p});
  p.grad().fill(3);
  opt.zero_grad();
  for (double g : p.grad().to_vector()) EXPECT_EQ(g, 0.0);
}

}  // namespace
}  // namespace flare::optim
