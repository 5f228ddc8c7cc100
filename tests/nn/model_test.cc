// Model: hierarchical names, scopes, duplicates, lookup, dtype and bookkeeping; Module
// registration and train/eval propagation.
#include <gtest/gtest.h>

#include "nn/nn_test_util.h"

namespace flare::nn {
namespace {

std::vector<std::string> names(const Model& m) {
  std::vector<std::string> r;
  for (auto& [n, p] : m.named_parameters()) r.push_back(n);
  return r;
}

TEST(Model, ScopesBuildHierarchicalNames) {
  Model m;
  {
    auto s = m.scope("classifier");
    EXPECT_EQ(m.current_scope(), "classifier");
    LSTMCell lstm(m, 3, 2);
    m.add_parameter("out/W", Shape{5, 2});
    {
      auto s2 = m.scope("extra/deep");
      m.add_parameter("b", Shape{5}, Init::zeros());
    }
  }
  EXPECT_EQ(m.current_scope(), "");
  m.add_parameter("top", Shape{2, 2});
  EXPECT_EQ(names(m), (std::vector<std::string>{"classifier/lstm/input->gates/W", "classifier/lstm/hidden->gates/W",
                                                "classifier/lstm/gates/b", "classifier/out/W",
                                                "classifier/extra/deep/b", "top"}));
  EXPECT_EQ(m.parameters().size(), 6u);
  EXPECT_EQ(m.parameters()[3], m.find("classifier/out/W"));
  EXPECT_EQ(m.parameters()[3]->name(), "classifier/out/W");
  EXPECT_EQ(m.find("classifier/out"), nullptr);
  EXPECT_EQ(&m.at("top"), m.parameters()[5]);
  EXPECT_EQ(m.num_elements(), 8 * 3 + 8 * 2 + 8 + 10 + 5 + 4);
}

TEST(Model, DuplicateNamesThrowNamingThem) {
  Model m;
  Linear a(m, 3, 2);
  try {
    Linear b(m, 3, 2);
    FAIL() << "expected a duplicate-name error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("'linear/W'"), std::string::npos) << e.what();
  }
  // The failed module created nothing and left no scope open.
  EXPECT_EQ(m.size(), 2u);
  EXPECT_EQ(m.current_scope(), "");
  Linear c(m, 3, 2, {}, "linear2");
  EXPECT_NE(m.find("linear2/W"), nullptr);
  auto s = m.scope("linear");
  EXPECT_THROW(m.add_parameter("b", Shape{2}), Error);
}

TEST(Model, MalformedNamesThrow) {
  Model m;
  EXPECT_THROW(m.add_parameter("", Shape{2, 2}), Error);
  EXPECT_THROW(m.add_parameter("a//b", Shape{2, 2}), Error);
  EXPECT_THROW(m.add_parameter("a/", Shape{2, 2}), Error);
  EXPECT_THROW((void)m.scope("/x"), Error);
  EXPECT_THROW(Linear(m, 2, 2, {}, ""), Error);
  EXPECT_THROW(m.add_parameter("batched", Shape({2}, 3), Init::zeros()), Error);
  EXPECT_EQ(m.size(), 0u);
  EXPECT_EQ(m.current_scope(), "");
  try {
    m.at("nothing/here");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("nothing/here"), std::string::npos);
  }
}

TEST(Model, InitialiserErrorsNameTheParameter) {
  Model m;
  try {
    m.add_parameter("v", Shape{4}, Init::glorot_uniform());
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("'v'"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("glorot_uniform"), std::string::npos) << e.what();
  }
  EXPECT_EQ(m.size(), 0u);
}

TEST(Model, DtypeDeviceAndTensorValues) {
  Model m(DType::f64);
  Parameter& w = m.add_parameter("w", Shape{2, 3});
  EXPECT_EQ(w.dtype(), DType::f64);
  EXPECT_EQ(w.grad().dtype(), DType::f64);
  Tensor src = Tensor::from(Shape{2}, {1.5f, -2.0f});
  Parameter& v = m.add_parameter("v", src, /*trainable=*/false);
  EXPECT_EQ(v.dtype(), DType::f64);
  EXPECT_EQ(v.value().to_vector(), (std::vector<double>{1.5, -2.0}));
  src.fill(7);  // a copy, not a view
  EXPECT_EQ(v.value().to_vector(), (std::vector<double>{1.5, -2.0}));
  EXPECT_FALSE(v.trainable());
  EXPECT_EQ(m.trainable_parameters(), std::vector<Parameter*>{&w});
  m.to(Device::cpu());
  EXPECT_TRUE(m.device().is_cpu());
}

TEST(Model, ZeroGradClearsEveryParameter) {
  Model m;
  Linear lin(m, 2, 2);
  Graph g;
  g.backward(sum(lin(g.input(Shape{2}, {1, 2}))));
  EXPECT_NE(lin.weight().grad().to_vector(), std::vector<double>(4, 0.0));
  m.zero_grad();
  EXPECT_EQ(lin.weight().grad().to_vector(), std::vector<double>(4, 0.0));
}

// A user-defined module with member modules, as the module.h comment shows.
class Tagger : public Module {
 public:
  explicit Tagger(Model& m)
      : Module(m, "tagger"), embed_(m, 10, 4), rnn_(m, 4, 3), drop_(m, 0.5), out_(m, 3, 2, {}, "out") {
    extra_ = &add_parameter("extra", Shape{2}, Init::ones());
    close_scope();
  }
  Embedding embed_;
  LSTMCell rnn_;
  Dropout drop_;
  Linear out_;
  Parameter* extra_;
};

TEST(Module, MembersBecomeChildrenUnderTheScope) {
  Model m;
  Linear before(m, 2, 2, {}, "before");
  Tagger t(m);
  Linear after(m, 2, 2, {}, "after");
  EXPECT_EQ(t.path(), "tagger");
  EXPECT_EQ(t.children().size(), 4u);
  EXPECT_EQ(t.out_.path(), "tagger/out");
  EXPECT_EQ(t.out_.parent(), &t);
  EXPECT_EQ(after.parent(), nullptr);
  EXPECT_EQ(after.path(), "after");
  std::vector<std::string> got;
  for (Parameter* p : t.parameters()) got.push_back(p->name());
  EXPECT_EQ(got, (std::vector<std::string>{"tagger/embed/E", "tagger/lstm/input->gates/W",
                                           "tagger/lstm/hidden->gates/W", "tagger/lstm/gates/b",
                                           "tagger/out/W", "tagger/out/b", "tagger/extra"}));
  EXPECT_EQ(t.extra_->value().to_vector(), (std::vector<double>{1, 1}));
}

TEST(Module, TrainAndEvalPropagateToChildren) {
  Model m;
  Tagger t(m);
  EXPECT_TRUE(t.training());
  EXPECT_TRUE(t.drop_.training());
  t.eval();
  EXPECT_FALSE(t.training());
  EXPECT_FALSE(t.drop_.training());
  EXPECT_FALSE(t.out_.training());
  t.train();
  EXPECT_TRUE(t.drop_.training());
  RNNOptions o;
  o.direction = Direction::bidirectional;
  o.layers = 2;
  RNN rnn(m, 3, 2, o);
  rnn.eval();
  EXPECT_FALSE(rnn.cell(1, 1).training());
  EXPECT_EQ(rnn.cell(1, 1).path(), "rnn/l1/bwd");
  EXPECT_EQ(rnn.children().size(), 4u);
}

TEST(Module, ActivationNames) {
  for (Activation a : {Activation::identity, Activation::tanh, Activation::sigmoid, Activation::relu,
                       Activation::elu, Activation::softplus})
    EXPECT_EQ(parse_activation(activation_name(a)), a);
  EXPECT_THROW(parse_activation("swish"), Error);
}

}  // namespace
}  // namespace flare::nn
