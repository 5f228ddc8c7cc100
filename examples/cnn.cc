// Sentence classification with a convolutional network (Kim 2014): word vectors learnt from
// scratch, convolutions of widths 3, 4 and 5 with 100 feature maps each, ReLU, max over time,
// dropout and a linear layer over the five SST sentiment classes. Trains on classes/train.txt,
// reports accuracy on classes/dev.txt after each epoch and keeps the best epoch. Shares the
// sentiment example's data handling and flags.
//
// The defaults are Kim's training recipe, and reach about 40% dev accuracy within two minutes on
// one thread (docs/cnn.md): small uniform initial word vectors (U(-0.1, 0.1); N(0, 1) vectors
// are so large that the model fits the training set through them before it generalises),
// dropout 0.5 on the pooled features, an L2 max-norm of 3 on each output row, mini-batches of
// 50 same-length sentences (one summed-gradient update each). Adam 1e-3 is used instead of
// Kim's Adadelta (--optimizer adadelta --lr 1), which was slower and noisier here. The dev
// accuracy peaks after about three epochs, then the model overfits; the best epoch is kept.
// The benchmark (bench_cnn) trains CnnConfig's own defaults one sentence at a time.
#include <iostream>
#include <memory>
#include <string>

#include "common/cli.h"
#include "common/cnn_model.h"
#include "common/text.h"
#include "common/training.h"
#include "flare/optim.h"

namespace fx = flare::examples;

int main(int argc, char** argv) {
  CLI::App app{"Five-class sentence sentiment with a CNN over word vectors (data: classes/)"};
  fx::CommonOptions opts;
  opts.epochs = 10;
  fx::add_common_flags(app, opts);
  fx::CnnConfig cfg;
  cfg.embed_scale = 0.1;
  std::string optimizer = "adam";
  double lr = 1e-3, clip = 0.0, max_norm = 3.0, weight_decay = 0.0;
  int sparse = 1;
  int64_t batch = 50;
  app.add_option("--embed", cfg.embed, "word vector size")->capture_default_str();
  app.add_option("--maps", cfg.maps, "feature maps per filter width")->capture_default_str();
  app.add_option("--widths", cfg.widths, "filter widths")->capture_default_str();
  app.add_option("--dropout", cfg.dropout, "dropout on the pooled features (training only)")->capture_default_str();
  app.add_option("--embed-scale", cfg.embed_scale, "word vectors start U(-a, a) (0: N(0, 1))")->capture_default_str();
  app.add_option("--optimizer", optimizer, "adam or adadelta")->capture_default_str();
  app.add_option("--lr", lr, "learning rate")->capture_default_str();
  app.add_option("--weight-decay", weight_decay, "L2 weight decay")->capture_default_str();
  app.add_option("--max-norm", max_norm, "max L2 norm of each output row (0: none)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  app.add_option("--batch", batch, "sentences per update, grouped by length (1: one at a time)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--clip", clip, "clip the gradient norm to this (0: no clipping)")->capture_default_str();
  app.add_option("--sparse", sparse, "1: lazy updates of the embedding rows a batch uses")->capture_default_str();

  return fx::run_main("cnn", app, argc, argv, [&]() -> int {
    fx::apply_common_flags(opts);
    if (!opts.load.empty() || !opts.eval.empty() || !opts.save.empty())
      throw flare::Error("cnn: --save, --load and --eval are not supported by this example");
    cfg.sparse = sparse != 0;
    const std::string train_path = fx::data_file(opts.data, "classes/train.txt");
    const std::string dev_path = fx::data_file(opts.data, "classes/dev.txt");
    const auto train_raw = fx::take(flare::io::read_labelled(train_path), opts.limit);
    const flare::io::Vocabulary vocab = fx::first_seen_vocab(fx::sentence_words(train_raw));
    const auto train = fx::batch_by_length(fx::prepare_sentiment(train_raw, vocab, cfg.classes, train_path), batch,
                                           opts.seed);
    const auto dev = fx::prepare_sentiment(fx::take(flare::io::read_labelled(dev_path), opts.dev_limit), vocab,
                                           cfg.classes, dev_path);

    flare::nn::Model m;
    fx::CnnClassifier model(m, vocab.size(), cfg);
    const std::vector<flare::Parameter*> params = m.parameters();
    std::unique_ptr<flare::optim::Optimizer> opt;
    if (optimizer == "adam")
      opt = std::make_unique<flare::optim::Adam>(params, flare::optim::AdamOptions(lr).weight_decay(weight_decay));
    else if (optimizer == "adadelta")
      opt = std::make_unique<flare::optim::Adadelta>(params, flare::optim::AdadeltaOptions(lr).rho(0.95).weight_decay(weight_decay));
    else
      throw flare::Error("cnn: --optimizer must be adam or adadelta, got " + optimizer);
    std::cerr << "cnn: " << train_raw.size() << " training sentences in " << train.size() << " batches, " << dev.size() << " dev, vocabulary "
              << vocab.size() << ", " << m.num_elements() << " parameters\n";

    flare::Graph g;
    fx::TrainHooks hooks;
    int64_t sentences = 0;
    // The max-norm constraint holds for every forward pass: it is applied before each training
    // step (so after every update) and before each evaluation (the kept best epoch obeys it).
    auto constrain = [&] {
      if (max_norm > 0) flare::optim::max_norm_rows(model.output().weight(), max_norm);
    };
    hooks.step = [&](size_t i) {
      constrain();
      g.clear();
      flare::Expr loss = model.loss(g, train[i]);
      g.backward(loss);
      sentences += int64_t(train[i].size());
      return loss.item();
    };
    hooks.evaluate = [&] {
      constrain();
      return fx::cnn_accuracy(model, dev);
    };
    hooks.set_training = [&](bool on) { model.train(on); };
    hooks.clip_norm = clip;
    fx::TrainReport report = fx::fit(opts, params, *opt, train.size(), hooks);
    report.examples = sentences;
    std::cerr << "cnn: best dev accuracy " << report.dev_metric << " (epoch " << report.best_epoch << ")\n";
    fx::print_summary(fx::summary("cnn", "accuracy", report.dev_metric, std::nullopt, &report, ""));
    return 0;
  });
}
