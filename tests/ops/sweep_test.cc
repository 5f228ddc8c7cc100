// The registry sweep: every op's shape rule, forward coverage and float64 gradient, and every
// listed bad input's message. Prints "gradcheck: N ops checked, M failed".
#include <gtest/gtest.h>

#include <cmath>
#include <iostream>
#include <memory>
#include <set>

#include "ops/registry.h"
#include "support/gradcheck.h"

namespace flare {
namespace {

using testing::bad_samples;
using testing::op_samples;

TEST(OpSweep, EveryOpHasARegistryEntryAndSamples) {
  std::set<OpId> sampled;
  for (const auto& s : op_samples()) sampled.insert(s.op);
  for (int i = 0; i < kOpCount; ++i) {
    OpId op = OpId(i);
    const ops::OpDef& d = ops::def(op);
    ASSERT_NE(d.name, nullptr) << "op " << op_name(op) << " has no registry entry";
    EXPECT_STREQ(d.name, op_name(op));
    ASSERT_NE(d.shape, nullptr) << op_name(op);
    ASSERT_NE(d.forward, nullptr) << op_name(op);
    if (op == OpId::Input || op == OpId::Param) continue;
    EXPECT_NE(d.backward, nullptr) << op_name(op) << " has no backward";
    EXPECT_TRUE(sampled.count(op)) << "op " << op_name(op) << " has no sample in tests/support/op_samples.cc";
  }
}

TEST(OpSweep, GradientsMatchFiniteDifferences) {
  std::set<std::string> failed_ops;
  std::set<std::string> checked_ops;
  for (const auto& s : op_samples()) {
    std::string op = s.op == OpId::Count ? s.name : op_name(s.op);
    checked_ops.insert(op);
    testing::GradcheckResult r;
    try {
      r = testing::gradcheck(s);
    } catch (const std::exception& e) {
      r.ok = false;
      r.detail = std::string("threw: ") + e.what();
    }
    EXPECT_TRUE(r.ok) << s.name << ": " << r.detail << " (max error " << r.max_error << ")";
    if (!r.ok) failed_ops.insert(op);
  }
  std::cout << "gradcheck: " << checked_ops.size() << " ops checked, " << failed_ops.size()
            << " failed (" << op_samples().size() << " samples)" << std::endl;
}

TEST(OpSweep, BadInputsThrowNamedErrors) {
  for (const auto& b : bad_samples()) {
    Graph g;
    std::vector<Expr> args;
    for (const Shape& s : b.shapes) args.push_back(g.input(Tensor::zeros(s)));
    try {
      b.build(args);
      ADD_FAILURE() << b.name << ": no error thrown";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(b.expect), std::string::npos)
          << b.name << ": message \"" << e.what() << "\" lacks \"" << b.expect << "\"";
    }
  }
}

TEST(OpSweep, Float32MatchesFloat64) {
  // The float32 kernels (SLEEF paths included) agree with the float64 reference.
  for (const auto& s : op_samples()) {
    std::vector<Tensor> v32, v64;
    for (size_t i = 0; i < s.args.size(); ++i) {
      auto vals = testing::random_values(s.args[i], 99 + i);
      v64.push_back(Tensor::from(s.args[i].shape, vals, DType::f64));
      v32.push_back(Tensor::from(s.args[i].shape, vals, DType::f32));
    }
    auto run = [&](const std::vector<Tensor>& vals) {
      Graph g;
      g.set_seed(5);
      std::vector<Expr> args;
      for (const Tensor& t : vals) args.push_back(g.input(t));
      return s.build(args).value().to_vector();
    };
    std::vector<double> a = run(v32), b = run(v64);
    ASSERT_EQ(a.size(), b.size()) << s.name;
    for (size_t i = 0; i < a.size(); ++i)
      EXPECT_NEAR(a[i], b[i], 1e-5 * (1 + std::fabs(b[i]))) << s.name << " element " << i;
  }
}

}  // namespace
}  // namespace flare

namespace flare {
namespace {

TEST(OpSweep, Float32GradientsMatchFloat64) {
  // The float32 backward kernels (small-matrix paths included) agree with float64.
  for (const auto& s : testing::op_samples()) {
    auto grads = [&](DType t) {
      std::vector<std::unique_ptr<Parameter>> ps;
      for (size_t i = 0; i < s.args.size(); ++i)
        ps.push_back(std::make_unique<Parameter>(
            "a", Tensor::from(s.args[i].shape, testing::random_values(s.args[i], 7 + i), t)));
      Graph g;
      g.set_seed(3);
      std::vector<Expr> args;
      for (auto& p : ps) args.push_back(g.param(*p));
      Expr y = s.build(args);
      Tensor w = Tensor::from(y.shape(), testing::random_values({y.shape(), -1, 1}, 11), t);
      g.backward(sum_batch(sum(y * g.input(w))));
      std::vector<double> out;
      for (auto& p : ps) {
        auto v = p->grad().to_vector();
        out.insert(out.end(), v.begin(), v.end());
      }
      return out;
    };
    std::vector<double> a = grads(DType::f32), b = grads(DType::f64);
    ASSERT_EQ(a.size(), b.size());
    for (size_t i = 0; i < a.size(); ++i)
      EXPECT_NEAR(a[i], b[i], 1e-4 * (1 + std::fabs(b[i]))) << s.name << " gradient element " << i;
  }
}

TEST(OpSweep, LargerMatricesTakeTheBlasPathAndAgree) {
  // 40x70 and 130x3: both sides of the small-kernel threshold, every transpose pattern.
  for (auto dims : {std::vector<int64_t>{40, 70, 1}, std::vector<int64_t>{130, 3, 1}, std::vector<int64_t>{33, 65, 1}}) {
    const int64_t m = dims[0], k = dims[1];
    auto run = [&](DType t) {
      Parameter w("W", Tensor::from(Shape{m, k}, testing::random_values({Shape{m, k}}, 1), t));
      Parameter x("x", Tensor::from(Shape{k}, testing::random_values({Shape{k}}, 2), t));
      Graph g;
      Expr y = matmul(g.param(w), g.param(x));
      g.backward(sum(y * y));
      std::vector<double> out = y.to_vector();
      for (auto* p : {&w, &x}) {
        auto v = p->grad().to_vector();
        out.insert(out.end(), v.begin(), v.end());
      }
      return out;
    };
    std::vector<double> a = run(DType::f32), b = run(DType::f64);
    for (size_t i = 0; i < a.size(); ++i) EXPECT_NEAR(a[i], b[i], 1e-3 * (1 + std::fabs(b[i]))) << m << "x" << k << " " << i;
  }
}

}  // namespace
}  // namespace flare
