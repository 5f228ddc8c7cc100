// Sentence classification with a convolutional network (Kim 2014): word vectors learnt from
// scratch, convolutions of widths 3, 4 and 5 with 100 feature maps each, ReLU, max over time,
// dropout and a linear layer over the five SST sentiment classes. Trains on classes/train.txt,
// reports accuracy on classes/dev.txt after each epoch and keeps the best epoch. Shares the
// sentiment example's data handling and flags.
#include <iostream>

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
  double lr = 1e-3, clip = 0.0;
  int sparse = 1;
  app.add_option("--embed", cfg.embed, "word vector size")->capture_default_str();
  app.add_option("--maps", cfg.maps, "feature maps per filter width")->capture_default_str();
  app.add_option("--widths", cfg.widths, "filter widths")->capture_default_str();
  app.add_option("--dropout", cfg.dropout, "dropout on the pooled features (training only)")->capture_default_str();
  app.add_option("--lr", lr, "Adam learning rate")->capture_default_str();
  app.add_option("--clip", clip, "clip the gradient norm to this (0: no clipping)")->capture_default_str();
  app.add_option("--sparse", sparse, "1: lazy Adam on the embedding rows a sentence uses")->capture_default_str();

  return fx::run_main("cnn", app, argc, argv, [&]() -> int {
    fx::apply_common_flags(opts);
    if (!opts.load.empty() || !opts.eval.empty() || !opts.save.empty())
      throw flare::Error("cnn: --save, --load and --eval are not supported by this example");
    cfg.sparse = sparse != 0;
    const std::string train_path = fx::data_file(opts.data, "classes/train.txt");
    const std::string dev_path = fx::data_file(opts.data, "classes/dev.txt");
    const auto train_raw = fx::take(flare::io::read_labelled(train_path), opts.limit);
    std::vector<std::vector<std::string>> words;
    for (const auto& s : train_raw) words.push_back(s.words);
    const flare::io::Vocabulary vocab = fx::first_seen_vocab(words);
    const auto train = fx::prepare_sentiment(train_raw, vocab, cfg.classes, train_path);
    const auto dev = fx::prepare_sentiment(fx::take(flare::io::read_labelled(dev_path), opts.dev_limit), vocab,
                                           cfg.classes, dev_path);

    flare::nn::Model m;
    fx::CnnClassifier model(m, vocab.size(), cfg);
    const std::vector<flare::Parameter*> params = m.parameters();
    flare::optim::Adam opt(params, flare::optim::AdamOptions(lr));
    std::cerr << "cnn: " << train.size() << " training sentences, " << dev.size() << " dev, vocabulary "
              << vocab.size() << ", " << m.num_elements() << " parameters\n";

    flare::Graph g;
    fx::TrainHooks hooks;
    hooks.step = [&](size_t i) {
      g.clear();
      flare::Expr loss = model.loss(g, train[i]);
      g.backward(loss);
      return loss.item();
    };
    hooks.evaluate = [&] { return fx::cnn_accuracy(model, dev); };
    hooks.set_training = [&](bool on) { model.train(on); };
    hooks.clip_norm = clip;
    fx::TrainReport report = fx::fit(opts, params, opt, train.size(), hooks);
    std::cerr << "cnn: best dev accuracy " << report.dev_metric << " (epoch " << report.best_epoch << ")\n";
    fx::print_summary(fx::summary("cnn", "accuracy", report.dev_metric, std::nullopt, &report, ""));
    return 0;
  });
}
