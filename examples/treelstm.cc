// Tree-LSTM sentiment: a binary Tree-LSTM composes a sentence bottom-up along its parse tree
// (Stanford Sentiment Treebank, trees/), and every node, leaves included, is trained to predict
// its own sentiment label (0 very negative .. 4 very positive). Reports the root accuracy on
// trees/dev.txt after each epoch and keeps the best epoch.
#include <iostream>

#include "common/cli.h"
#include "common/model_file.h"
#include "common/text.h"
#include "common/training.h"
#include "common/treelstm_model.h"
#include "flare/optim.h"

namespace fx = flare::examples;

int main(int argc, char** argv) {
  CLI::App app{"Five-class sentiment with a binary Tree-LSTM over labelled parse trees (data: trees/)"};
  fx::CommonOptions opts;
  opts.epochs = 20;
  fx::FlagSet flags;
  flags.batching = true;  // --autobatch N, --update-every N
  fx::add_common_flags(app, opts, flags);
  // Defaults that reach 42% root accuracy within two minutes on one thread (the benchmark uses
  // TreeConfig's own: 128 wide, no dropout, lr 0.001).
  fx::TreeConfig cfg;
  cfg.embed = 64;
  cfg.hidden = 64;
  cfg.dropout = 0.3;
  double lr = 3e-3, clip = 5.0;
  int sparse = 1;
  app.add_option("--embed", cfg.embed, "word vector size")->capture_default_str();
  app.add_option("--hidden", cfg.hidden, "Tree-LSTM state size")->capture_default_str();
  app.add_option("--dropout", cfg.dropout, "dropout on word vectors and node states (training only)")
      ->capture_default_str();
  app.add_option("--lr", lr, "Adam learning rate")->capture_default_str();
  app.add_option("--clip", clip, "clip the gradient norm to this (0: no clipping)")->capture_default_str();
  app.add_option("--sparse", sparse, "1: lazy Adam on the embedding rows a tree uses")->capture_default_str();

  return fx::run_main("treelstm", app, argc, argv, [&]() -> int {
    fx::apply_common_flags(app, opts);
    cfg.sparse = sparse != 0;
    const bool training = !opts.evaluate_only();
    flare::io::Vocabulary vocab;
    std::vector<flare::io::Tree> train_raw;
    const std::string train_path = opts.data + "/trees/train.txt";
    if (training || opts.load.empty())
      train_raw = fx::take(flare::io::read_trees(fx::data_file(opts.data, "trees/train.txt")), opts.limit);
    if (!opts.load.empty()) {
      fx::ModelInfo info = fx::read_model_info(opts.load, "treelstm");
      cfg = fx::TreeConfig::from_json(info.config);
      vocab = info.vocab("words");
    } else {
      vocab = fx::first_seen_vocab(fx::tree_words(train_raw));
    }

    flare::nn::Model m;
    fx::TreeSentimentModel model(m, vocab.size(), cfg);
    m.to(opts.dev());  // before the optimizer, whose state follows the parameters
    const std::vector<flare::Parameter*> params = m.parameters();
    flare::optim::Adam opt(params, flare::optim::AdamOptions(lr));
    if (!opts.load.empty()) fx::load_model(opts.load, params, training ? &opt : nullptr);
    model.eval();
    fx::ModelInfo info{"treelstm", cfg.to_json(), {}, ""};
    info.vocabs.emplace("words", vocab);

    if (!opts.eval.empty()) {
      const auto data = fx::prepare_trees(flare::io::read_trees(opts.eval), vocab, cfg.classes, opts.eval);
      const double acc = fx::tree_root_accuracy(model, data);
      std::cerr << opts.eval << ": root accuracy " << acc << " on " << data.size() << " trees\n";
      fx::print_summary(fx::summary("treelstm", "root_accuracy", std::nullopt, acc, nullptr, ""));
      return 0;
    }
    const std::string dev_path = fx::data_file(opts.data, "trees/dev.txt");
    const auto dev =
        fx::prepare_trees(fx::take(flare::io::read_trees(dev_path), opts.dev_limit), vocab, cfg.classes, dev_path);
    if (!training) {
      const double acc = fx::tree_root_accuracy(model, dev);
      fx::print_summary(fx::summary("treelstm", "root_accuracy", acc, std::nullopt, nullptr, ""));
      return 0;
    }

    const auto train = fx::prepare_trees(train_raw, vocab, cfg.classes, train_path);
    train_raw.clear();
    std::cerr << "treelstm: " << train.size() << " training trees, " << dev.size() << " dev, vocabulary "
              << vocab.size() << ", " << m.num_elements() << " parameters\n";
    fx::TrainHooks hooks;
    // fit() runs it one example at a time, or --autobatch N examples per batched graph.
    hooks.loss = [&](flare::Graph& g, size_t i) { return model.loss(g, train[i]); };
    hooks.evaluate = [&] { return fx::tree_root_accuracy(model, dev); };
    hooks.set_training = [&](bool on) { model.train(on); };
    hooks.clip_norm = clip;
    if (!opts.save.empty()) hooks.on_best = [&] { fx::save_model(opts.save, info, params, &opt); };
    const fx::TrainReport report = fx::fit(opts, params, opt, train.size(), hooks);
    std::cerr << "treelstm: best dev root accuracy " << report.dev_metric << " (epoch " << report.best_epoch << ")";
    if (!opts.save.empty()) std::cerr << ", saved to " << opts.save;
    std::cerr << "\n";
    fx::print_summary(fx::summary("treelstm", "root_accuracy", report.dev_metric, std::nullopt, &report, opts.save));
    return 0;
  });
}
