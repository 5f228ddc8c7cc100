// Logistic regression on generated data, as in the original flare README: a linear score
// w.x + b squashed by a sigmoid, trained one example at a time with Adam on the log loss.
// The data are two Gaussian blobs (a fixed --data-seed draws them); a quarter as many points as
// --examples are held out. --write-heldout FILE saves the held-out points in the format --eval
// reads: one point per line, `label x1 x2 ... xd` with label 0 or 1.
#include <fstream>
#include <iostream>
#include <random>
#include <sstream>

#include "common/cli.h"
#include "common/model_file.h"
#include "common/training.h"
#include "flare/error.h"
#include "flare/flare.h"
#include "flare/nn/nn.h"
#include "flare/optim.h"

namespace fx = flare::examples;

namespace {

struct Point {
  std::vector<float> x;
  float y = 0;
};

// Points from two Gaussian blobs around +-direction/2; the label says which blob.
std::vector<Point> generate(int64_t n, const std::vector<float>& direction, std::mt19937_64& gen) {
  std::normal_distribution<float> noise(0.f, 1.f);
  std::vector<Point> data(static_cast<size_t>(n));
  for (Point& p : data) {
    p.y = float(gen() % 2);
    for (float d : direction) p.x.push_back(noise(gen) + (p.y > 0 ? 0.5f : -0.5f) * d);
  }
  return data;
}

std::vector<Point> read_points(const std::string& path, int64_t dim) {
  std::ifstream in(path);
  if (!in) throw flare::IoError(path + ": cannot open for reading");
  std::vector<Point> out;
  std::string line;
  for (int64_t n = 1; std::getline(in, line); ++n) {
    std::istringstream fields(line);
    std::string label;
    if (!(fields >> label)) continue;  // blank line
    auto fail = [&](const std::string& what) { throw flare::IoError(path + ":" + std::to_string(n) + ": " + what); };
    if (label != "0" && label != "1") fail("label '" + label + "' is not 0 or 1");
    Point p;
    p.y = label == "1" ? 1.f : 0.f;
    std::string v;
    while (fields >> v) {
      size_t used = 0;
      float f = 0;
      try {
        f = std::stof(v, &used);
      } catch (const std::exception&) {
      }
      if (used != v.size() || v.empty()) fail("value " + std::to_string(p.x.size() + 1) + " '" + v + "' is not a number");
      p.x.push_back(f);
    }
    if (int64_t(p.x.size()) != dim)
      fail(std::to_string(p.x.size()) + " values after the label; the model takes " + std::to_string(dim));
    out.push_back(std::move(p));
  }
  return out;
}

void write_points(const std::string& path, const std::vector<Point>& data) {
  std::ofstream out(path);
  for (const Point& p : data) {
    out << (p.y > 0 ? 1 : 0);
    for (float v : p.x) out << ' ' << v;
    out << '\n';
  }
  if (!out) throw flare::IoError(path + ": cannot write");
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Logistic regression on generated data (the original flare's first training example)"};
  fx::CommonOptions opts;
  opts.epochs = 5;
  fx::add_common_flags(app, opts, fx::FlagSet{/*data=*/false, /*dev_limit=*/false});
  int64_t examples = 2000, dim = 20;
  uint64_t data_seed = 12345;
  double lr = 0.01;
  std::string write_heldout;
  app.add_option("--examples", examples, "generated training points (a quarter as many are held out)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--dim", dim, "input dimension")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--data-seed", data_seed, "seed of the generated data")->capture_default_str();
  app.add_option("--lr", lr, "Adam learning rate")->capture_default_str();
  app.add_option("--write-heldout", write_heldout, "write the held-out points to this file (--eval's format)");

  return fx::run_main("logreg", app, argc, argv, [&]() -> int {
    fx::apply_common_flags(app, opts);
    if (!opts.load.empty()) dim = fx::read_model_info(opts.load, "logreg").config.at("dim");
    std::mt19937_64 gen(data_seed);
    std::normal_distribution<float> normal(0.f, 1.f);
    std::vector<float> direction(static_cast<size_t>(dim));
    for (float& d : direction) d = normal(gen);
    const std::vector<Point> train = fx::take(generate(examples, direction, gen), opts.limit);
    const std::vector<Point> held = generate(examples / 4, direction, gen);
    if (!write_heldout.empty()) write_points(write_heldout, held);

    flare::nn::Model m;
    auto scope = m.scope("logreg");
    flare::nn::Linear linear(m, dim, 1, {}, "linear");  // logreg/linear/W and logreg/linear/b
    scope.close();
    const std::vector<flare::Parameter*> params = m.parameters();
    flare::optim::Adam opt(params, flare::optim::AdamOptions(lr));
    const bool training = !opts.evaluate_only();
    if (!opts.load.empty()) fx::load_model(opts.load, params, training ? &opt : nullptr);
    const fx::ModelInfo info{"logreg", {{"dim", dim}}, {}, ""};

    flare::Graph g;
    auto probability = [&](const Point& p) { return flare::sigmoid(linear(g.input(flare::Shape{dim}, p.x))); };
    auto accuracy = [&](const std::vector<Point>& data) {
      int64_t right = 0;
      for (const Point& p : data) {
        g.clear();
        right += (probability(p).item() > 0.5) == (p.y > 0.5f);
      }
      return data.empty() ? 0.0 : double(right) / double(data.size());
    };

    if (!opts.eval.empty()) {
      const double acc = accuracy(read_points(opts.eval, dim));
      fx::print_summary(fx::summary("logreg", "accuracy", std::nullopt, acc, nullptr, ""));
      return 0;
    }
    if (!training) {
      fx::print_summary(fx::summary("logreg", "accuracy", accuracy(held), std::nullopt, nullptr, ""));
      return 0;
    }
    fx::TrainHooks hooks;
    hooks.step = [&](size_t i) {
      g.clear();
      flare::Expr loss = flare::binary_log_loss(probability(train[i]), g.constant(flare::Shape{1}, train[i].y));
      g.backward(loss);
      return loss.item();
    };
    hooks.evaluate = [&] { return accuracy(held); };
    if (!opts.save.empty()) hooks.on_best = [&] { fx::save_model(opts.save, info, params, &opt); };
    const fx::TrainReport report = fx::fit(opts, params, opt, train.size(), hooks);
    fx::print_summary(fx::summary("logreg", "accuracy", report.dev_metric, std::nullopt, &report, opts.save));
    return 0;
  });
}
