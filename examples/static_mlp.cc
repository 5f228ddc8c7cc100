// An MLP classifier trained one example at a time with a static graph: the graph is recorded
// once with placeholders, compiled once, and every update only feeds the next example.
// With --check, each update is also run eagerly on a copy of the model, and the losses must
// agree to the bit (they run the same kernels in the same order).
#include <algorithm>
#include <chrono>
#include <cstring>
#include <iostream>
#include <random>
#include <vector>

#include <CLI/CLI.hpp>

#include "flare/flare.h"
#include "flare/nn/nn.h"
#include "flare/optim.h"
#include "flare/static_graph.h"

namespace {

struct Data {
  std::vector<float> x;  // n x dim
  std::vector<int32_t> y;
};

// Points around `classes` random centres; the label is the centre's index.
Data generate(int n, int dim, int classes, std::mt19937_64& gen) {
  std::normal_distribution<float> normal(0.f, 1.f);
  std::mt19937_64 centres_gen(7);
  std::vector<float> centres(size_t(classes * dim));
  for (float& c : centres) c = 0.3f * normal(centres_gen);
  Data d;
  for (int i = 0; i < n; ++i) {
    int32_t label = int32_t(gen() % uint64_t(classes));
    d.y.push_back(label);
    for (int k = 0; k < dim; ++k) d.x.push_back(centres[size_t(label * dim + k)] + normal(gen));
  }
  return d;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"MLP classifier trained with a static graph (record once, compile once, feed per example)"};
  int epochs = 3, examples = 5000, dim = 20, hidden = 64, classes = 5;
  uint64_t seed = 1;
  bool check = false;
  app.add_option("--epochs", epochs, "passes over the training data");
  app.add_option("--examples", examples, "generated training examples (a fifth as many are held out)");
  app.add_option("--hidden", hidden, "hidden layer size");
  app.add_option("--seed", seed, "random seed");
  app.add_flag("--check", check, "also run every update eagerly on a copy of the model and compare losses");
  CLI11_PARSE(app, argc, argv);

  std::mt19937_64 gen(seed);
  Data train = generate(examples, dim, classes, gen), held = generate(examples / 5, dim, classes, gen);

  flare::manual_seed(seed);
  flare::nn::Model model;
  flare::nn::MLPOptions mo;
  mo.activation = flare::nn::Activation::relu;
  flare::nn::MLP mlp(model, {dim, hidden, hidden, classes}, mo);
  flare::optim::Adam opt(model.parameters());

  // 1. Record: placeholders stand for the inputs; the model is built once.
  flare::StaticGraph sg;
  flare::Expr x = sg.placeholder("x", flare::Shape{dim});
  flare::IndexPlaceholder y = sg.index_placeholder("y");
  flare::Expr scores = mlp(x);
  flare::Expr loss = flare::pick_neg_log_softmax(scores, y);
  // 2. Plan: execution order, one buffer with memory reuse, scratch held. Nothing is
  //    allocated and no shape is inferred after this.
  sg.compile({scores}, loss);
  const flare::StaticPlanStats& st = sg.stats();
  std::cout << "plan: " << st.forward_nodes << " forward and " << st.backward_nodes << " backward steps, "
            << st.buffer_bytes << " bytes of values and gradients (" << st.unshared_bytes << " without reuse)\n";

  // The eager twin for --check: same initial parameters (same seed), its own optimizer.
  flare::manual_seed(seed);
  flare::nn::Model twin_model;
  flare::nn::MLP twin(twin_model, {dim, hidden, hidden, classes}, mo);
  flare::optim::Adam twin_opt(twin_model.parameters());
  flare::Graph eg;

  std::vector<size_t> order(train.y.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  for (int epoch = 1; epoch <= epochs; ++epoch) {
    std::shuffle(order.begin(), order.end(), gen);
    auto start = std::chrono::steady_clock::now();
    double total = 0;
    for (size_t i : order) {
      // 3. Run: feed, forward, backward; the optimizer works as in eager mode.
      float* xi = train.x.data() + i * size_t(dim);
      sg.feed(x, flare::Tensor::view(xi, flare::Shape{dim}, flare::DType::f32));
      sg.feed_index(y, train.y[i]);
      opt.zero_grad();
      sg.forward();
      sg.backward();
      opt.step();
      total += sg.item(loss);

      if (check) {
        eg.clear();
        flare::Expr el = flare::pick_neg_log_softmax(twin(eg.input(flare::Shape{dim}, std::vector<float>(xi, xi + dim))), train.y[i]);
        twin_opt.zero_grad();
        eg.backward(el);
        twin_opt.step();
        float a = float(sg.item(loss)), b = float(el.item());
        if (std::memcmp(&a, &b, sizeof a) != 0) {
          std::cerr << "static and eager losses differ: " << a << " vs " << b << "\n";
          return 1;
        }
      }
    }
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

    // Evaluation computes only what the scores need (the loss is skipped).
    int right = 0;
    for (size_t i = 0; i < held.y.size(); ++i) {
      sg.feed(x, flare::Tensor::view(held.x.data() + i * size_t(dim), flare::Shape{dim}, flare::DType::f32));
      sg.forward({scores});
      std::vector<double> s = sg.value(scores).to_vector();
      right += int32_t(std::max_element(s.begin(), s.end()) - s.begin()) == held.y[i];
    }
    std::cout << "epoch " << epoch << ": loss " << total / double(order.size()) << ", held-out accuracy "
              << double(right) / double(held.y.size()) << ", " << double(order.size()) / secs << " examples/s"
              << (check ? " (with the eager check)" : "") << "\n";
  }
  if (check) std::cout << "static and eager losses agreed to the bit on every update\n";
  return 0;
}
