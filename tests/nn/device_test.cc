// The same model on the CPU and on a CUDA device (skipped without one): initial values are
// equal (initialisers draw on the host), and forward values and gradients agree.
#include <gtest/gtest.h>

#include "nn/nn_test_util.h"

namespace flare::nn {
namespace {

using testing::formula_tensor;

// A small network using every module; returns the loss.
struct Net {
  explicit Net(Model& m)
      : embed(m, 9, 4, sparse_options()), rnn(m, 4, 3, rnn_options()), tree(m, 6, 3),
        mlp(m, {3, 5, 2}, mlp_options()) {}
  static EmbeddingOptions sparse_options() {
    EmbeddingOptions o;
    o.sparse = true;
    return o;
  }
  static RNNOptions rnn_options() {
    RNNOptions o;
    o.layers = 2;
    o.direction = Direction::bidirectional;
    return o;
  }
  static MLPOptions mlp_options() {
    MLPOptions o;
    o.activation = Activation::relu;
    return o;
  }
  Expr loss(Graph& g) const {
    std::vector<Expr> xs = embed.sequence(g, std::vector<std::vector<int32_t>>{{1, 5, 2}, {7, 5, 0}});
    RNN::Result r = rnn(xs);
    TreeLSTM::Params p = tree.bind(g);
    RNNState root = tree.node(p, tree.leaf(p, r.outputs[0]), tree.node(p, tree.leaf(p, r.outputs[1]),
                                                                       tree.leaf(p, r.outputs[2])));
    return sum_batch(pick_neg_log_softmax(mlp(root.h), std::vector<int32_t>{0, 1}));
  }
  Embedding embed;
  RNN rnn;
  TreeLSTM tree;
  MLP mlp;
};

TEST(NNDevice, CudaMatchesCpu) {
  const Device gpu = Device::cuda();
  if (!device_available(gpu)) GTEST_SKIP() << "no CUDA device available";
  for (DType t : {DType::f64, DType::f32}) {
    const double tol = t == DType::f64 ? 1e-10 : 1e-4;
    Model cpu_model(t), gpu_model(t, gpu);
    Net a(cpu_model), b(gpu_model);
    auto pa = cpu_model.parameters(), pb = gpu_model.parameters();
    ASSERT_EQ(pa.size(), pb.size());
    for (size_t i = 0; i < pa.size(); ++i) {
      EXPECT_EQ(pb[i]->device(), gpu);
      EXPECT_EQ(pa[i]->value().to_vector(), pb[i]->value().to_vector()) << pa[i]->name();
    }
    Graph ga, gb(gpu);
    Expr la = a.loss(ga), lb = b.loss(gb);
    EXPECT_NEAR(la.item(), lb.item(), tol);
    ga.backward(la);
    gb.backward(lb);
    for (size_t i = 0; i < pa.size(); ++i) {
      std::vector<double> x = pa[i]->grad().to_vector(), y = pb[i]->grad().to_vector();
      for (size_t k = 0; k < x.size(); ++k) EXPECT_NEAR(x[k], y[k], tol) << pa[i]->name() << "[" << k << "]";
    }
    EXPECT_EQ(pa[0]->touched_rows(), pb[0]->touched_rows());
    // Moving a model: values survive the round trip, and graphs on the other device refuse it.
    cpu_model.to(gpu);
    EXPECT_EQ(cpu_model.device(), gpu);
    EXPECT_EQ(pa[1]->device(), gpu);
    EXPECT_EQ(pa[1]->value().to_vector(), pb[1]->value().to_vector());
    Graph g_cpu;
    EXPECT_THROW(a.loss(g_cpu), Error);
    cpu_model.to(Device::cpu());
    EXPECT_EQ(pa[1]->value().to_vector(), pb[1]->value().to_vector());
  }
}

TEST(NNDevice, ModelToSameDeviceKeepsValues) {
  Model m;
  Net n(m);
  std::vector<double> before = n.mlp.layers()[0]->weight().value().to_vector();
  m.to(Device::cpu());
  EXPECT_EQ(n.mlp.layers()[0]->weight().value().to_vector(), before);
  Graph g;
  EXPECT_TRUE(std::isfinite(n.loss(g).item()));
}

}  // namespace
}  // namespace flare::nn
