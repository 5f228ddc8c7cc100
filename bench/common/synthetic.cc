#include "common/synthetic.h"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>

#include "common/bench_util.h"
#include "flare/optim.h"
#include "flare/static_graph.h"

namespace flare::bench {
namespace {

// Box-Muller over a 64-bit Mersenne twister: the same numbers with every standard library.
class Normal {
 public:
  explicit Normal(uint64_t seed) : rng_(seed) {}
  float operator()() {
    if (have_spare_) {
      have_spare_ = false;
      return spare_;
    }
    const double two_pi = 6.283185307179586;
    double u1 = (double(rng_() >> 11) + 1.0) * 0x1.0p-53, u2 = double(rng_() >> 11) * 0x1.0p-53;
    double r = std::sqrt(-2.0 * std::log(u1));
    spare_ = float(r * std::sin(two_pi * u2));
    have_spare_ = true;
    return float(r * std::cos(two_pi * u2));
  }

 private:
  std::mt19937_64 rng_;
  float spare_ = 0;
  bool have_spare_ = false;
};

void fill_split(SyntheticSplit& s, int64_t n, int64_t steps, int64_t dim, Normal& normal,
                const std::function<int32_t(const std::vector<float>&)>& label) {
  s.n = n;
  s.x.assign(size_t(steps * n * dim), 0.0f);
  s.y.resize(size_t(n));
  std::vector<float> ex(static_cast<size_t>(steps * dim));
  for (int64_t i = 0; i < n; ++i) {
    for (float& v : ex) v = normal();
    for (int64_t t = 0; t < steps; ++t)
      std::copy_n(ex.data() + t * dim, dim, s.x.data() + (t * n + i) * dim);
    s.y[size_t(i)] = label(ex);
  }
}

// Epochs of the batches in a fresh random order, until `seconds` have passed (checked after
// every update, so the last one finishes). The first kWarmupUpdates batches run untimed first.
struct Throughput {
  double seconds = 0, epochs = 0;
  int64_t updates = 0, examples = 0;
};
Throughput train_for(double seconds, int64_t n_batches, int64_t batch, uint64_t seed,
                     const std::function<void(int64_t)>& step) {
  std::vector<int64_t> order(static_cast<size_t>(n_batches));
  std::iota(order.begin(), order.end(), 0);
  for (int64_t k = 0; k < std::min<int64_t>(kWarmupUpdates, n_batches); ++k) step(k);
  std::mt19937_64 rng(seed);
  Throughput tp;
  Stopwatch clock;
  for (bool done = false; !done;) {
    std::shuffle(order.begin(), order.end(), rng);
    for (int64_t k = 0; k < n_batches; ++k) {
      step(order[size_t(k)]);
      ++tp.updates;
      tp.examples += batch;
      if (clock.seconds() >= seconds) {
        tp.epochs += double(k + 1) / double(n_batches);
        done = true;
        break;
      }
    }
    if (!done) tp.epochs += 1.0;
  }
  tp.seconds = clock.seconds();
  return tp;
}

int32_t predict(const Tensor& scores, LossKind loss) {
  std::vector<double> s = scores.to_vector();
  if (loss == LossKind::logistic) return s[0] > 0 ? 1 : 0;
  return int32_t(std::max_element(s.begin(), s.end()) - s.begin());
}

Tensor view(const float* p, const Shape& s) { return Tensor::view(const_cast<float*>(p), s, DType::f32); }

}  // namespace

int parse_synthetic_args(int argc, char** argv, const std::string& description, SyntheticArgs& a) {
  CLI::App app{description};
  app.add_option("--mode", a.mode, "eager: a graph per update; static: one compiled graph fed per update")
      ->check(CLI::IsMember({"eager", "static"}));
  app.add_option("--seconds", a.seconds, "training time budget");
  app.add_option("--seed", a.seed, "seed of the initialisation and the shuffling");
  app.add_option("--batch", a.batch, "examples per update")->check(CLI::PositiveNumber);
  app.add_option("--data", a.data, "unused (accepted for bench/run)");
  app.add_option("--sparse", a.sparse, "unused (accepted for bench/run)");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  return -1;
}

SyntheticData make_synthetic(int64_t steps, int64_t dim, int64_t classes,
                             const std::function<int32_t(const std::vector<float>&)>& label,
                             std::vector<float>* teacher, int64_t teacher_size) {
  Normal normal(kDataSeed);
  teacher->resize(size_t(teacher_size));
  for (float& v : *teacher) v = normal();
  SyntheticData d;
  d.steps = steps;
  d.dim = dim;
  d.classes = classes;
  fill_split(d.train, kTrainExamples, steps, dim, normal, label);
  fill_split(d.dev, kDevExamples, steps, dim, normal, label);
  return d;
}

int run_synthetic(const std::string& task, const SyntheticArgs& args, const SyntheticData& d,
                  nn::Model& model, LossKind loss_kind, const ScoreFn& score_fn) {
  const int64_t B = args.batch, n_batches = d.train.n / B;  // a partial last batch is dropped
  if (n_batches < 1) {
    std::cerr << task << ": --batch " << B << " is larger than the training set\n";
    return 2;
  }
  const Shape x_shape({d.dim}, B), t_shape({1}, B);
  std::vector<float> targets(d.train.y.begin(), d.train.y.end());  // logistic: 0/1 as floats
  optim::Adam opt(model.parameters(), optim::AdamOptions(1e-3));
  nlohmann::json extra = nlohmann::json::object();

  Throughput tp;
  int64_t correct = 0;
  if (args.mode == "eager") {
    Graph g;
    std::vector<Expr> xs;
    std::vector<int32_t> labels(static_cast<size_t>(B));
    auto step = [&](int64_t b) {
      g.clear();
      xs.clear();
      for (int64_t t = 0; t < d.steps; ++t) xs.push_back(g.input(view(d.step(d.train, t, b * B), x_shape)));
      Expr z = score_fn(g, xs), loss;
      if (loss_kind == LossKind::softmax) {
        std::copy_n(d.train.y.data() + b * B, B, labels.data());
        loss = sum_batch(pick_neg_log_softmax(z, labels));
      } else {
        Expr t = g.input(view(targets.data() + b * B, t_shape));
        loss = sum_batch(sum(softplus(z) - t * z));
      }
      opt.zero_grad();
      g.backward(loss);
      opt.step();
    };
    tp = train_for(args.seconds, n_batches, B, args.seed, step);
    for (int64_t i = 0; i < d.dev.n; ++i) {
      g.clear();
      xs.clear();
      for (int64_t t = 0; t < d.steps; ++t) xs.push_back(g.input(view(d.step(d.dev, t, i), Shape{d.dim})));
      correct += predict(score_fn(g, xs).value(), loss_kind) == d.dev.y[size_t(i)];
    }
  } else {
    StaticGraph sg;
    std::vector<Expr> xs;
    for (int64_t t = 0; t < d.steps; ++t) xs.push_back(sg.placeholder("x" + std::to_string(t), x_shape));
    Expr z = score_fn(sg.graph(), xs), loss, t;
    IndexPlaceholder y;
    if (loss_kind == LossKind::softmax) {
      y = sg.index_placeholder("y", B);
      loss = sum_batch(pick_neg_log_softmax(z, y));
    } else {
      t = sg.placeholder("t", t_shape);
      loss = sum_batch(sum(softplus(z) - t * z));
    }
    sg.compile({}, loss);
    auto step = [&](int64_t b) {
      for (int64_t s = 0; s < d.steps; ++s) sg.feed(xs[size_t(s)], view(d.step(d.train, s, b * B), x_shape));
      if (loss_kind == LossKind::softmax)
        sg.feed_indices(y, d.train.y.data() + b * B, B);
      else
        sg.feed(t, view(targets.data() + b * B, t_shape));
      opt.zero_grad();
      sg.forward();
      sg.backward();
      opt.step();
    };
    tp = train_for(args.seconds, n_batches, B, args.seed, step);
    const StaticPlanStats& st = sg.stats();
    // plan_unshared_bytes is what an eager graph allocates for the same values and gradients
    // (each its own memory); plan_buffer_bytes what the plan needs with reuse.
    extra = {{"plan_forward_nodes", st.forward_nodes}, {"plan_backward_nodes", st.backward_nodes},
             {"plan_buffer_bytes", st.buffer_bytes}, {"plan_unshared_bytes", st.unshared_bytes},
             {"plan_scratch_bytes", st.scratch_bytes}};

    // Evaluation: a second plan, one example per run, computing only the scores.
    StaticGraph ev;
    std::vector<Expr> exs;
    for (int64_t s = 0; s < d.steps; ++s) exs.push_back(ev.placeholder("x" + std::to_string(s), Shape{d.dim}));
    Expr ez = score_fn(ev.graph(), exs);
    ev.compile({ez});
    for (int64_t i = 0; i < d.dev.n; ++i) {
      for (int64_t s = 0; s < d.steps; ++s) ev.feed(exs[size_t(s)], view(d.step(d.dev, s, i), Shape{d.dim}));
      ev.forward();
      correct += predict(ev.value(ez), loss_kind) == d.dev.y[size_t(i)];
    }
  }

  nlohmann::json r = {{"task", task},
                      {"impl", "flare"},
                      {"mode", args.mode},
                      {"sparse", 0},
                      {"examples_per_s", tp.seconds > 0 ? double(tp.examples) / tp.seconds : 0.0},
                      {"words_per_s", nullptr},
                      {"dev_metric", double(correct) / double(d.dev.n)},
                      {"peak_rss_mb", peak_rss_mb()},
                      {"dev_metric_name", "accuracy"},
                      {"dev_examples", d.dev.n},
                      {"seed", args.seed},
                      {"train_seconds", tp.seconds},
                      {"train_examples", tp.examples},
                      {"updates", tp.updates},
                      {"epochs", tp.epochs},
                      {"batch", B},
                      {"warmup_updates", kWarmupUpdates},
                      {"optimizer", "adam"}};
  r.update(extra);
  print_result(r);
  return 0;
}

}  // namespace flare::bench
