// Logistic regression on generated data, as in the original flare README: a linear score
// w.x + b squashed by a sigmoid, trained one example at a time with SGD on the log loss.
#include <chrono>
#include <cmath>
#include <iostream>
#include <algorithm>
#include <random>

#include <CLI/CLI.hpp>

#include "flare/flare.h"

namespace {

struct Example {
  std::vector<float> x;
  float y;
};

// Points from two Gaussian blobs; the label says which blob.
std::vector<Example> generate(int n, const std::vector<float>& direction, std::mt19937_64& gen) {
  std::normal_distribution<float> noise(0.f, 1.f);
  const int dim = int(direction.size());
  std::vector<Example> data(static_cast<size_t>(n));
  for (auto& e : data) {
    e.y = float(gen() % 2);
    e.x.resize(size_t(dim));
    for (int k = 0; k < dim; ++k) e.x[size_t(k)] = noise(gen) + (e.y ? 0.5f : -0.5f) * direction[size_t(k)];
  }
  return data;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Logistic regression on generated data (the original flare's first training example)"};
  int epochs = 5, examples = 2000, dim = 20;
  double lr = 0.05;
  uint64_t seed = 1;
  app.add_option("--epochs", epochs, "passes over the training data");
  app.add_option("--examples", examples, "generated training examples (a quarter as many are held out)");
  app.add_option("--dim", dim, "input dimension");
  app.add_option("--lr", lr, "SGD learning rate");
  app.add_option("--seed", seed, "random seed");
  CLI11_PARSE(app, argc, argv);

  flare::manual_seed(seed);
  std::mt19937_64 gen(seed);
  std::normal_distribution<float> normal(0.f, 1.f);
  std::vector<float> direction(static_cast<size_t>(dim));
  for (float& d : direction) d = normal(gen);
  std::vector<Example> train = generate(examples, direction, gen), held = generate(examples / 4, direction, gen);
  flare::Parameter w("logreg/w", flare::Tensor::zeros(flare::Shape{1, dim}));
  flare::Parameter b("logreg/b", flare::Tensor::zeros(flare::Shape{1}));
  flare::Graph g;
  auto predict = [&](const Example& e) {
    flare::Expr x = g.input(flare::Shape{dim}, e.x);
    return flare::sigmoid(flare::affine({g.param(b), g.param(w), x}));
  };
  auto accuracy = [&] {
    int right = 0;
    for (const Example& e : held) {
      g.clear();
      right += (predict(e).item() > 0.5) == (e.y > 0.5f);
    }
    return double(right) / double(held.size());
  };

  auto start = std::chrono::steady_clock::now();
  double first_loss = 0, last_loss = 0;
  for (int epoch = 1; epoch <= epochs; ++epoch) {
    std::shuffle(train.begin(), train.end(), gen);
    double total = 0;
    for (const Example& e : train) {
      g.clear();
      flare::Expr loss = flare::binary_log_loss(predict(e), g.constant(flare::Shape{1}, e.y));
      total += loss.item();
      g.backward(loss);
      for (flare::Parameter* p : {&w, &b}) {
        flare::backend(p->device()).axpy(p->dtype(), p->value().data(), p->grad().data(),
                                          p->shape().total(), -lr);
        p->zero_grad();
      }
    }
    last_loss = total / double(train.size());
    if (epoch == 1) first_loss = last_loss;
    std::cerr << "epoch " << epoch << ": mean loss " << last_loss << ", held-out accuracy " << accuracy() << "\n";
  }
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::cout << "{\"example\": \"logreg\", \"first_loss\": " << first_loss << ", \"final_loss\": " << last_loss
            << ", \"dev_metric\": " << accuracy() << ", \"eval_metric\": null, \"examples_per_s\": "
            << double(epochs) * double(train.size()) / seconds << "}\n";
  return 0;
}
