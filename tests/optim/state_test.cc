// Optimizer state: names, a round trip into a fresh optimizer, and what check_state reports.
#include <gtest/gtest.h>

#include "flare/error.h"
#include "flare/optim.h"

namespace flare::optim {
namespace {

std::vector<double> ramp(int64_t n, double scale) {
  std::vector<double> v(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) v[size_t(i)] = scale * double(i + 1);
  return v;
}

struct Params {
  Parameter w{"layer.W", Tensor::from(Shape{2, 3}, ramp(6, 0.1), DType::f64)};
  Parameter b{"layer.b", Tensor::from(Shape{3}, ramp(3, -0.2), DType::f64)};
  std::vector<Parameter*> all() { return {&w, &b}; }
  void grads(int step) {
    w.grad().copy_from(Tensor::from(w.shape(), ramp(6, 0.01 * step), DType::f64));
    b.grad().copy_from(Tensor::from(b.shape(), ramp(3, -0.03 * step), DType::f64));
  }
};

TEST(OptimizerState, NamesSlotsByParameterAndKind) {
  Params p;
  Adadelta opt(p.all());
  OptimizerState s = opt.state();
  EXPECT_EQ(s.kind, "adadelta");
  std::vector<std::string> names;
  for (auto& [n, t] : s.tensors) names.push_back(n);
  EXPECT_EQ(names, (std::vector<std::string>{"layer.W/adadelta/square_avg", "layer.W/adadelta/acc_delta",
                                             "layer.b/adadelta/square_avg", "layer.b/adadelta/acc_delta"}));
  Sgd plain(p.all());
  EXPECT_TRUE(plain.state().tensors.empty());
  Sgd momentum(p.all(), SgdOptions().momentum(0.5));
  EXPECT_EQ(momentum.state().tensors.at(0).first, "layer.W/sgd/momentum");
  Adagrad ada(p.all(), AdagradOptions().initial_accumulator_value(0.25));
  EXPECT_EQ(ada.state().tensors.at(0).second.at(0), 0.25);
}

TEST(OptimizerState, RoundTripContinuesIdentically) {
  Params a, b;
  Adam oa(a.all(), AdamOptions(0.05).weight_decay(0.01));
  for (int t = 1; t <= 3; ++t) {
    a.grads(t);
    oa.step();
  }
  oa.set_lr(0.02);
  // A fresh optimizer on parameters with the same values takes over the state (as copies).
  b.w.value().copy_from(a.w.value());
  b.b.value().copy_from(a.b.value());
  Adam ob(b.all(), AdamOptions(0.05).weight_decay(0.01));
  ob.load_state(oa.state());
  EXPECT_EQ(ob.step_count(), 3);
  EXPECT_EQ(ob.lr(), 0.02);
  for (int t = 4; t <= 6; ++t) {
    a.grads(t);
    b.grads(t);
    oa.step();
    ob.step();
  }
  EXPECT_EQ(a.w.value().to_vector(), b.w.value().to_vector());
  EXPECT_EQ(a.b.value().to_vector(), b.b.value().to_vector());
}

std::string load_error(Optimizer& opt, const OptimizerState& s) {
  try {
    opt.load_state(s);
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(OptimizerState, ReportsEveryMismatchAndChangesNothing) {
  Params p;
  Adam opt(p.all());
  OptimizerState good = opt.state();

  OptimizerState bad = good;
  bad.tensors.erase(bad.tensors.begin());                                        // missing W/m
  bad.tensors.emplace_back("extra/adam/m", Tensor::zeros(Shape{1}, DType::f64));  // unexpected
  bad.tensors[1].second = Tensor::zeros(Shape{4}, DType::f64);                    // b/m shape
  bad.tensors[0].second = Tensor::zeros(Shape{2, 3}, DType::f32);                 // W/v dtype
  bad.scalars.erase("lr");
  bad.scalars["step"] = 2.5;
  const std::string msg = load_error(opt, bad);
  EXPECT_NE(msg.find("adam: cannot load optimizer state:"), std::string::npos) << msg;
  EXPECT_NE(msg.find("missing optimizer state 'layer.W/adam/m'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("unexpected optimizer state 'extra/adam/m'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("optimizer state 'layer.b/adam/m': shape [4] in the saved state, [3] expected"),
            std::string::npos) << msg;
  EXPECT_NE(msg.find("optimizer state 'layer.W/adam/v': dtype float32 in the saved state, float64 expected"),
            std::string::npos) << msg;
  EXPECT_NE(msg.find("missing optimizer scalar 'lr'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("'step' must be a whole number >= 0, got 2.5"), std::string::npos) << msg;
  EXPECT_EQ(opt.step_count(), 0);

  OptimizerState sgd_state = Sgd(p.all(), SgdOptions().momentum(0.9)).state();
  EXPECT_EQ(load_error(opt, sgd_state),
            "adam: cannot load optimizer state:\n  optimizer state is for 'sgd', this optimizer is 'adam'");
}

TEST(OptimizerState, FollowsAParameterToItsDeviceOnLoad) {
  // State given on the CPU loads into state on the parameter's device (CPU here); the copy is
  // independent of the source.
  Params p;
  Adam opt(p.all());
  OptimizerState s = opt.state();
  OptimizerState copy = s;
  for (auto& [n, t] : copy.tensors) t = t.clone(), t.fill(0.5);
  opt.load_state(copy);
  copy.tensors[0].second.fill(9);
  EXPECT_EQ(opt.state().tensors[0].second.at(0), 0.5);
}

}  // namespace
}  // namespace flare::optim
