// Forward values of every module against PyTorch with identical weights
// (tests/nn/golden/make_golden.py wrote golden.json), in float64 and float32, on the CPU and,
// where one is available, a CUDA device.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <tuple>
#include <nlohmann/json.hpp>

#include "nn/nn_test_util.h"

namespace flare::nn {
namespace {

using nlohmann::json;
using testing::formula_tensor;
using testing::set_formula;

const json& golden() {
  static const json j = [] {
    const std::string path = std::string(FLARE_SOURCE_DIR) + "/tests/nn/golden/golden.json";
    std::ifstream in(path);
    if (!in) throw IoError("cannot open " + path);
    return json::parse(in);
  }();
  return j;
}

Shape shape_of(const json& spec) {
  std::vector<int64_t> d = spec.at("dims").get<std::vector<int64_t>>();
  const int64_t b = spec.at("batch").get<int64_t>();
  switch (d.size()) {
    case 1: return Shape({d[0]}, b);
    case 2: return Shape({d[0], d[1]}, b);
    default: throw Error("golden: unexpected dims");
  }
}

// One golden case run on a model of one dtype.
class Case {
 public:
  Case(const std::string& name, DType t, Device d)
      : spec_(golden().at("cases").at(name)), model_(t, d), t_(t), g_(d) {}
  const json& config() const { return spec_.at("config"); }
  Model& model() { return model_; }
  Graph& graph() { return g_; }

  // Sets every parameter the case lists; the module must have created exactly those.
  void set_params() {
    ASSERT_EQ(model_.size(), spec_.at("params").size());
    for (auto& [name, ids] : spec_.at("params").items()) {
      Parameter* p = model_.find(name);
      ASSERT_NE(p, nullptr) << "no parameter " << name;
      set_formula(*p, ids.get<std::vector<int>>());
    }
  }
  Expr input(const std::string& name) {
    const json& s = spec_.at("inputs").at(name);
    return g_.input(formula_tensor(s.at("t").get<int>(), shape_of(s), t_));
  }
  std::vector<int32_t> ids(const std::string& name) {
    return spec_.at("inputs").at(name).get<std::vector<int32_t>>();
  }
  void expect(const std::string& name, const Expr& y) {
    const json& o = spec_.at("outputs").at(name);
    ASSERT_EQ(y.shape(), shape_of(o)) << name;
    std::vector<double> want = o.at("values").get<std::vector<double>>();
    std::vector<double> got = y.to_vector();
    const double tol = t_ == DType::f64 ? 1e-10 : 1e-5;
    for (size_t k = 0; k < want.size(); ++k) EXPECT_NEAR(got[k], want[k], tol) << name << "[" << k << "]";
    ++checked_;
  }
  // Every output the file has was compared.
  void done() { EXPECT_EQ(checked_, spec_.at("outputs").size()); }

 private:
  const json& spec_;
  Model model_;
  DType t_;
  Graph g_;
  size_t checked_ = 0;
};

// (dtype, device): CUDA cases skip where no GPU is available.
class Golden : public ::testing::TestWithParam<std::tuple<DType, Device>> {
 protected:
  void SetUp() override {
    if (!device_available(device())) GTEST_SKIP() << "no " << device().str() << " device available";
  }
  DType dtype() const { return std::get<0>(GetParam()); }
  Device device() const { return std::get<1>(GetParam()); }
};

TEST_P(Golden, Linear) {
  for (const char* name : {"linear", "linear_nobias"}) {
    Case c(name, dtype(), device());
    LinearOptions o;
    o.bias = c.config().at("bias").get<bool>();
    Linear lin(c.model(), c.config().at("in"), c.config().at("out"), o);
    c.set_params();
    c.expect("y", lin(c.input("x")));
    c.done();
  }
}

TEST_P(Golden, MLP) {
  for (const char* name : {"mlp_tanh", "mlp_relu"}) {
    Case c(name, dtype(), device());
    MLPOptions o;
    o.activation = parse_activation(c.config().at("activation"));
    o.dropout = 0.5;  // evaluation mode below: no dropout
    MLP mlp(c.model(), c.config().at("sizes").get<std::vector<int64_t>>(), o);
    mlp.eval();
    c.set_params();
    c.expect("y", mlp(c.input("x")));
    c.done();
  }
}

TEST_P(Golden, LSTMCell) {
  Case c("lstm_cell", dtype(), device());
  LSTMCell cell(c.model(), c.config().at("in"), c.config().at("hidden"));
  c.set_params();
  RNNState s = cell(c.input("x"), {c.input("h"), c.input("c")});
  c.expect("h", s.h);
  c.expect("c", s.c);
  RNNState s2 = cell(c.input("x2"), s);
  c.expect("h2", s2.h);
  c.expect("c2", s2.c);
  RNNState z = cell(c.input("x"));
  c.expect("h_zero", z.h);
  c.expect("c_zero", z.c);
  c.done();
}

TEST_P(Golden, GRUCell) {
  Case c("gru_cell", dtype(), device());
  GRUCell cell(c.model(), c.config().at("in"), c.config().at("hidden"));
  c.set_params();
  c.expect("h", cell(c.input("x"), {c.input("h"), Expr()}).h);
  c.expect("h_zero", cell(c.input("x")).h);
  c.done();
}

TEST_P(Golden, BidirectionalStackedLSTM) {
  Case c("bilstm", dtype(), device());
  RNNOptions o;
  o.layers = c.config().at("layers");
  o.direction = Direction::bidirectional;
  RNN rnn(c.model(), c.config().at("in"), c.config().at("hidden"), o);
  c.set_params();
  std::vector<Expr> xs;
  for (int t = 0; t < c.config().at("length").get<int>(); ++t) xs.push_back(c.input("x" + std::to_string(t)));
  RNN::Result r = rnn(xs);
  ASSERT_EQ(r.outputs.size(), xs.size());
  for (size_t t = 0; t < xs.size(); ++t) c.expect("y" + std::to_string(t), r.outputs[t]);
  ASSERT_EQ(r.final.size(), 4u);
  for (size_t k = 0; k < r.final.size(); ++k) {
    c.expect("h_n" + std::to_string(k), r.final[k].h);
    c.expect("c_n" + std::to_string(k), r.final[k].c);
  }
  c.done();
}

TEST_P(Golden, ReverseGRU) {
  Case c("gru_reverse", dtype(), device());
  RNNOptions o;
  o.cell = CellType::gru;
  o.direction = Direction::reverse;
  RNN rnn(c.model(), c.config().at("in"), c.config().at("hidden"), o);
  c.set_params();
  std::vector<Expr> xs;
  for (int t = 0; t < c.config().at("length").get<int>(); ++t) xs.push_back(c.input("x" + std::to_string(t)));
  RNN::Result r = rnn(xs);
  for (size_t t = 0; t < xs.size(); ++t) c.expect("y" + std::to_string(t), r.outputs[t]);
  c.expect("h_n", r.final[0].h);
  c.done();
}

TEST_P(Golden, Embedding) {
  Case c("embedding", dtype(), device());
  Embedding e(c.model(), c.config().at("vocab"), c.config().at("dim"));
  c.set_params();
  c.expect("y", e.forward(c.graph(), c.ids("ids")));
  c.done();
}

TEST_P(Golden, TreeLSTM) {
  Case c("treelstm", dtype(), device());
  TreeLSTM tree(c.model(), c.config().at("in"), c.config().at("hidden"));
  c.set_params();
  TreeLSTM::Params p = tree.bind(c.graph());
  RNNState left = tree.node(p, tree.leaf(p, c.input("x0")), tree.leaf(p, c.input("x1")));
  RNNState root = tree.node(p, left, tree.leaf(p, c.input("x2")));
  c.expect("left_h", left.h);
  c.expect("left_c", left.c);
  c.expect("root_h", root.h);
  c.expect("root_c", root.c);
  c.done();
}

INSTANTIATE_TEST_SUITE_P(Modules, Golden,
                         ::testing::Combine(::testing::Values(DType::f64, DType::f32),
                                            ::testing::Values(Device::cpu(), Device::cuda())),
                         [](const ::testing::TestParamInfo<std::tuple<DType, Device>>& i) {
                           return std::string(dtype_name(std::get<0>(i.param))) + "_" +
                                  (std::get<1>(i.param).is_cpu() ? "cpu" : "cuda");
                         });

}  // namespace
}  // namespace flare::nn
