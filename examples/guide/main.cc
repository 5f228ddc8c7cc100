// The program docs/guide.md walks through: a small MLP classifier on generated data, trained
// first with a hand-written loop, checkpointed, reloaded, and then trained on with the Trainer.
// The regions between `// [guide:NAME]` and `// [guide:end]` are quoted verbatim in the guide
// (tests/docs/guide_snippets_test.cc checks it): edit both together.
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

// [guide:includes]
#include "flare/flare.h"
#include "flare/nn/nn.h"
#include "flare/optim.h"
#include "flare/train/checkpoint.h"
#include "flare/train/trainer.h"
// [guide:end]

namespace {

// [guide:data]
// One example: a point in 4 dimensions and the cluster (0, 1 or 2) it was drawn around.
struct Example {
  std::vector<float> x;
  int32_t label;
};

// Three Gaussian clusters with overlapping tails, so accuracy ends below 100%.
std::vector<Example> make_data(size_t n, uint64_t seed) {
  const float centres[3][4] = {{1, 0, 0, 1}, {0, 1, 0, -1}, {0, 0, 1, 0}};
  std::mt19937_64 gen(seed);
  std::normal_distribution<float> noise(0.f, 0.6f);
  std::vector<Example> data(n);
  for (size_t i = 0; i < n; ++i) {
    data[i].label = int32_t(i % 3);
    for (float c : centres[data[i].label]) data[i].x.push_back(c + noise(gen));
  }
  return data;
}
// [guide:end]

// [guide:model]
// A classifier: 4 inputs -> 16 tanh units -> 3 scores. Its parameters live in `model`, named
// "classifier/mlp/l0/W", "classifier/mlp/l0/b", ... (names are what checkpoints use).
struct Classifier {
  flare::nn::Model model;
  std::unique_ptr<flare::nn::MLP> mlp;

  Classifier() {
    auto scope = model.scope("classifier");
    mlp = std::make_unique<flare::nn::MLP>(model, std::vector<int64_t>{4, 16, 3});
  }

  // Scores for one example.
  flare::Expr scores(flare::Graph& g, const Example& ex) const {
    return (*mlp)(g.input(flare::Shape{4}, ex.x));
  }

  // The training loss of one example; backward() on it accumulates gradients.
  flare::Expr loss(flare::Graph& g, const Example& ex) const {
    return flare::pick_neg_log_softmax(scores(g, ex), ex.label);
  }
};
// [guide:end]

// [guide:accuracy]
// The share of examples whose highest score is their label.
double accuracy(const Classifier& c, const std::vector<Example>& data) {
  flare::Graph g;
  size_t right = 0;
  for (const Example& ex : data) {
    g.clear();
    std::vector<double> s = c.scores(g, ex).to_vector();
    size_t best = 0;
    for (size_t k = 1; k < s.size(); ++k)
      if (s[k] > s[best]) best = k;
    right += int32_t(best) == ex.label;
  }
  return double(right) / double(data.size());
}
// [guide:end]

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"The guide's program: an MLP on generated data, trained by hand, then by the Trainer"};
  int epochs = 8;
  std::string out = (std::filesystem::temp_directory_path() / "flare_guide").string();
  app.add_option("--epochs", epochs, "epochs in all (2 by hand, the rest with the Trainer)")
      ->check(CLI::Range(3, 1000));
  app.add_option("--out", out, "folder for the checkpoints and the training log");
  CLI11_PARSE(app, argc, argv);
  std::filesystem::create_directories(out);
  const std::string checkpoint = out + "/after_epoch_2.safetensors";
  // The Trainer appends to its log when resuming (start_epoch > 0): start each run afresh.
  std::filesystem::remove(out + "/train.jsonl");

  const std::vector<Example> train_set = make_data(600, 1), dev_set = make_data(300, 2);

  // [guide:manual-loop]
  flare::manual_seed(1);  // parameter initialisation is reproducible
  Classifier c;
  flare::optim::Adam opt(c.model.parameters(), flare::optim::AdamOptions(0.01));
  flare::Graph g;
  for (int epoch = 0; epoch < 2; ++epoch) {
    double total = 0;
    for (const Example& ex : train_set) {
      g.clear();                                   // drop the last example's nodes
      flare::Expr loss = c.loss(g, ex);
      total += loss.item();
      opt.zero_grad();
      g.backward(loss);                            // gradients into the parameters
      flare::optim::clip_grad_norm(c.model.parameters(), 5.0);
      opt.step();                                  // one fused Adam update per parameter
    }
    std::printf("epoch %d: loss %.4f, dev accuracy %.3f\n", epoch + 1,
                total / double(train_set.size()), accuracy(c, dev_set));
  }
  // [guide:end]

  // [guide:save]
  flare::train::save_checkpoint(checkpoint, c.model.parameters(), &opt, {{"epoch", "2"}});
  // [guide:end]

  // [guide:load]
  Classifier resumed;  // a fresh model and optimizer, built exactly as before
  flare::optim::Adam resumed_opt(resumed.model.parameters(), flare::optim::AdamOptions(0.01));
  flare::io::Metadata meta =
      flare::train::load_checkpoint(checkpoint, resumed.model.parameters(), &resumed_opt);
  const int done = std::stoi(meta.at("epoch"));
  // [guide:end]
  std::printf("reloaded after epoch %d: dev accuracy %.3f (was %.3f)\n", done,
              accuracy(resumed, dev_set), accuracy(c, dev_set));

  // [guide:trainer]
  flare::optim::CosineWarmupLR schedule(resumed_opt, /*warmup_steps=*/0,
                                        /*total_steps=*/epochs - done);
  flare::train::Trainer trainer(
      resumed.model.parameters(), &resumed_opt,
      flare::train::TrainerOptions()
          .epochs(epochs)
          .start_epoch(done)
          .seed(7)
          .clip_norm(5.0)
          .best_checkpoint(out + "/best.safetensors")
          .log_path(out + "/train.jsonl")
          .time_budget_s(60));
  trainer.set_scheduler(&schedule);  // one schedule step per epoch
  flare::Graph tg;
  flare::train::FitResult result = trainer.fit(
      train_set,
      [&](const Example& ex) {
        tg.clear();
        flare::Expr loss = resumed.loss(tg, ex);
        tg.backward(loss);  // the Trainer calls step() and zero_grad()
        return loss.item();
      },
      [&] { return accuracy(resumed, dev_set); });
  std::printf("best dev accuracy %.3f after epoch %d\n", result.best_metric, result.best_epoch);
  // [guide:end]

  std::printf("{\"example\": \"guide\", \"best_accuracy\": %.4f, \"best_epoch\": %d}\n",
              result.best_metric, result.best_epoch);
  return result.best_metric > 0.8 ? 0 : 1;
}
