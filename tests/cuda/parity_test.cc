// CPU vs CUDA through the whole stack: every op sample of the registry sweep, built on each
// device with the same parameter values and the same random stream, must give the same values
// and gradients; and a small model trained by each optimizer must end with the same weights.
#include <gtest/gtest.h>

#include <memory>

#include "cuda_test_util.h"
#include "flare/nn/nn.h"
#include "flare/optim.h"
#include "support/gradcheck.h"

namespace flare {
namespace {

using cudatest::close;
using cudatest::gpu;

struct Outcome {
  std::vector<double> value;
  double loss = 0;
  std::vector<std::vector<double>> grads;
};

// Builds the sample on `d` from seeded values, then backpropagates sum(y * R) for fixed R.
Outcome run_sample(const testing::OpSample& s, DType t, Device d) {
  std::vector<std::unique_ptr<Parameter>> params;
  for (size_t i = 0; i < s.args.size(); ++i) {
    const testing::ArgSpec& a = s.args[i];
    params.push_back(std::make_unique<Parameter>(
        "arg" + std::to_string(i), Tensor::from(a.shape, testing::random_values(a, 500 + i), t)));
    params.back()->to(d);
  }
  Graph g(d);
  g.set_seed(11);  // dropout masks and noise come from the same counters on both devices
  std::vector<Expr> args;
  for (auto& p : params) args.push_back(g.param(*p));
  Expr y = s.build(args);
  Tensor r = Tensor::from(y.shape(), testing::random_values({y.shape(), -1, 1}, 77), t);
  Expr loss = sum_batch(sum(y * g.input(r)));
  g.backward(loss);
  Outcome o;
  o.value = y.value().to_vector();
  o.loss = loss.item();
  for (auto& p : params) o.grads.push_back(p->grad().to_vector());
  return o;
}

void expect_sample_parity(DType t, double tol) {
  int checked = 0;
  for (const testing::OpSample& s : testing::op_samples()) {
    SCOPED_TRACE(s.name + " (" + dtype_name(t) + ")");
    Outcome c, g;
    try {
      c = run_sample(s, t, Device::cpu());
      g = run_sample(s, t, gpu());
    } catch (const std::exception& e) {
      ADD_FAILURE() << "threw: " << e.what();
      continue;
    }
    EXPECT_TRUE(close(g.value, c.value, tol)) << "values";
    EXPECT_NEAR(g.loss, c.loss, tol * (1 + std::fabs(c.loss))) << "loss";
    ASSERT_EQ(g.grads.size(), c.grads.size());
    for (size_t i = 0; i < c.grads.size(); ++i)
      EXPECT_TRUE(close(g.grads[i], c.grads[i], tol)) << "gradient of argument " << i;
    ++checked;
  }
  EXPECT_EQ(checked, int(testing::op_samples().size()));
}

TEST(CudaParity, EveryOpSampleFloat32) {
  FLARE_REQUIRE_CUDA();
  expect_sample_parity(DType::f32, 1e-4);
}

TEST(CudaParity, EveryOpSampleFloat64) {
  FLARE_REQUIRE_CUDA();
  expect_sample_parity(DType::f64, 1e-10);
}

// A bag-of-embeddings classifier: an embedding table (sparse, or dense with row gradients,
// whose Adam steps the CPU defers and CUDA does not), an MLP and a softmax loss.
struct Classifier {
  nn::Model model;
  std::unique_ptr<nn::Embedding> embed;
  std::unique_ptr<nn::MLP> mlp;

  explicit Classifier(Device d, bool sparse = true) : model(DType::f64, Device::cpu()) {
    model.set_seed(21);
    nn::EmbeddingOptions eo;
    eo.sparse = sparse;
    embed = std::make_unique<nn::Embedding>(model, 30, 8, eo);
    mlp = std::make_unique<nn::MLP>(model, std::vector<int64_t>{8, 16, 4});
    model.to(d);
  }

  Expr loss(Graph& g, int step) const {
    std::vector<int32_t> ids, labels;
    for (int b = 0; b < 6; ++b) {
      ids.push_back(int32_t((step * 7 + b * 5) % 30));
      labels.push_back(int32_t((step + b) % 4));
    }
    ids[1] = ids[0];  // a repeated id: its row's gradient accumulates
    return sum_batch(pick_neg_log_softmax((*mlp)(embed->forward(g, ids)), labels));
  }
};

template <typename Opt, typename Options>
void expect_training_parity(const Options& options, const char* name, bool sparse = true) {
  SCOPED_TRACE(name);
  Classifier cpu(Device::cpu(), sparse), dev(gpu(), sparse);
  Opt oc(cpu.model.parameters(), options), od(dev.model.parameters(), options);
  Graph gc(Device::cpu()), gd(gpu());
  for (int step = 0; step < 6; ++step) {
    gc.clear();
    gd.clear();
    Expr lc = cpu.loss(gc, step), ld = dev.loss(gd, step);
    oc.zero_grad();
    od.zero_grad();
    gc.backward(lc);
    gd.backward(ld);
    const double nc = optim::clip_grad_norm(cpu.model.parameters(), 0.5);
    const double nd = optim::clip_grad_norm(dev.model.parameters(), 0.5);
    EXPECT_NEAR(nd, nc, 1e-10 * nc) << "gradient norm at step " << step;
    oc.step();
    od.step();
    EXPECT_NEAR(ld.item(), lc.item(), 1e-10 * (1 + std::fabs(lc.item()))) << "loss at step " << step;
  }
  const auto pc = cpu.model.named_parameters(), pd = dev.model.named_parameters();
  ASSERT_EQ(pc.size(), pd.size());
  for (size_t i = 0; i < pc.size(); ++i) {
    EXPECT_EQ(pd[i].second->device(), gpu());
    EXPECT_TRUE(close(pd[i].second->value().to_vector(), pc[i].second->value().to_vector(), 1e-10))
        << pc[i].first;
  }
}

TEST(CudaParity, TrainingWithEachOptimizer) {
  FLARE_REQUIRE_CUDA();
  expect_training_parity<optim::Sgd>(optim::SgdOptions(0.2), "sgd");
  expect_training_parity<optim::Sgd>(
      optim::SgdOptions(0.2).momentum(0.9).nesterov(true).weight_decay(0.01), "sgd nesterov");
  expect_training_parity<optim::Adagrad>(optim::AdagradOptions(0.1).weight_decay(0.01), "adagrad");
  expect_training_parity<optim::Adadelta>(optim::AdadeltaOptions(1.0), "adadelta");
  expect_training_parity<optim::Adam>(optim::AdamOptions(0.01).weight_decay(0.01), "adam");
  expect_training_parity<optim::Adam>(optim::AdamOptions(0.01), "adam plain");
  expect_training_parity<optim::AdamW>(optim::AdamWOptions(0.01), "adamw");
  // A dense table: row gradients, deferred Adam steps on the CPU, whole-table steps on CUDA.
  expect_training_parity<optim::Adam>(optim::AdamOptions(0.01).weight_decay(0.01), "adam dense table", false);
  expect_training_parity<optim::Sgd>(optim::SgdOptions(0.2).momentum(0.9), "sgd dense table", false);
}

TEST(CudaParity, ModelsMoveBetweenDevices) {
  FLARE_REQUIRE_CUDA();
  Classifier c(Device::cpu());
  const std::vector<double> before = c.model.parameters()[0]->value().to_vector();
  c.model.to(gpu());
  for (Parameter* p : c.model.parameters()) EXPECT_EQ(p->device(), gpu());
  c.model.to(Device::cpu());
  EXPECT_EQ(c.model.parameters()[0]->value().to_vector(), before);
}

}  // namespace
}  // namespace flare
