// conv1d and pooling against PyTorch: tests/nn/golden/make_conv_golden.py ran F.conv1d,
// max_pool1d, avg_pool1d and amax on inputs and weights given by formulas (rebuilt here), in
// float64; flare must agree to 1e-5 in float64 and float32, through the op and the Conv1d module.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>

#include "flare/conv.h"
#include "flare/flare.h"
#include "flare/nn/conv1d.h"

namespace flare {
namespace {

using nlohmann::json;

const json& golden() {
  static const json j = [] {
    std::ifstream in(std::string(FLARE_SOURCE_DIR) + "/tests/nn/golden/conv_golden.json");
    return json::parse(in);
  }();
  return j;
}

struct Case {
  int64_t B, cin, T, cout, K;
  Conv1dArgs args;
  bool bias;
  std::vector<double> x, W, b;
};

Case make_case(const json& c) {
  Case k{c["batch"], c["cin"], c["T"], c["cout"], c["K"], {}, c["bias"], {}, {}, {}};
  k.args.stride = c["stride"];
  k.args.dilation = c["dilation"];
  k.args.pad = Pad1d::explicit_lr(c["pad_left"], c["pad_right"]);
  if (c["name"] == "same width4") k.args.pad = Pad1d::same_length();  // PyTorch's split: 1 left, 2 right
  for (int64_t b = 0; b < k.B; ++b)
    for (int64_t i = 0; i < k.cin; ++i)
      for (int64_t t = 0; t < k.T; ++t) k.x.push_back(std::sin(0.3 * i + 0.7 * t + 0.1 * b));
  for (int64_t o = 0; o < k.cout; ++o)
    for (int64_t i = 0; i < k.cin; ++i)
      for (int64_t w = 0; w < k.K; ++w) k.W.push_back(0.3 * std::cos(0.5 * o + 0.2 * i - 0.4 * w));
  for (int64_t o = 0; o < k.cout; ++o) k.b.push_back(0.1 * o - 0.2);
  return k;
}

void expect_near(const std::vector<double>& got, const json& want, const std::string& what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  for (size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], want[i].get<double>(), 1e-5) << what << " [" << i << "]";
}

TEST(Conv1dGolden, OpsMatchPyTorch) {
  for (DType t : {DType::f64, DType::f32})
    for (const json& c : golden()["cases"]) {
      const Case k = make_case(c);
      const std::string name = c["name"].get<std::string>() + " " + dtype_name(t);
      Graph g;
      Expr x = g.input(Shape({k.cin, k.T}, k.B), k.x, t);
      Expr W = g.input(Shape({k.cout, k.cin, k.K}), k.W, t);
      Expr y = k.bias ? conv1d(x, W, g.input(Shape({k.cout}), k.b, t), k.args) : conv1d(x, W, k.args);
      expect_near(y.to_vector(), c["y"], name + " conv1d");
      expect_near(max_pool1d(y, 2, 2).to_vector(), c["max_pool_2_2"], name + " max_pool1d");
      expect_near(avg_pool1d(y, 2, 1).to_vector(), c["avg_pool_2_1"], name + " avg_pool1d");
      expect_near(max_over_time(y).to_vector(), c["max_over_time"], name + " max_over_time");
    }
}

TEST(Conv1dGolden, ModuleWithCopiedWeights) {
  const json& c = golden()["cases"][0];
  const Case k = make_case(c);
  nn::Model m;
  nn::Conv1d conv(m, k.cin, k.cout, k.K);
  EXPECT_EQ(conv.weight().shape(), Shape({k.cout, k.cin, k.K}));
  // PyTorch's default initialisation bound 1/sqrt(in * width).
  const double r = 1.0 / std::sqrt(double(k.cin * k.K));
  for (double v : conv.weight().value().to_vector()) EXPECT_LE(std::abs(v), r);
  conv.weight().value().copy_from(Tensor::from(conv.weight().shape(), k.W, DType::f32));
  conv.bias()->value().copy_from(Tensor::from(Shape({k.cout}), k.b, DType::f32));
  Graph g;
  expect_near(conv(g.input(Shape({k.cin, k.T}), k.x, DType::f32)).to_vector(), c["y"], "module");
}

TEST(Conv1dGolden, KMaxKeepsOrder) {
  Graph g;
  Expr x = g.input(Shape{2, 5}, {3, 1, 4, 1, 5, 9, 2, 6, 5, 3});
  EXPECT_EQ(kmax_pool(x, 3).to_vector(), (std::vector<double>{3, 4, 5, 9, 6, 5}));
}

}  // namespace
}  // namespace flare
