// A word-level LSTM language model trained on mini-batches (PTB text, text/dev.txt: one
// sentence per line). Sentence i is held out when i % 10 == 9. Each sentence is read as
// `<s> w1 .. wn` predicting `w1 .. wn </s>`; sentences are sorted by length and cut into
// mini-batches of --minibatch, padded and masked. Reports held-out perplexity after each epoch.
#include <iostream>

#include "common/cli.h"
#include "common/lm_data.h"
#include "common/lm_model.h"
#include "common/model_file.h"
#include "common/training.h"
#include "flare/io/datasets.h"
#include "flare/optim.h"

namespace fx = flare::examples;

int main(int argc, char** argv) {
  CLI::App app{"Word-level LSTM language model with mini-batches (data: text/dev.txt, every 10th sentence held out)"};
  fx::CommonOptions opts;
  opts.epochs = 10;
  fx::add_common_flags(app, opts);
  fx::LMConfig cfg;
  int64_t minibatch = 16;
  double lr = 1e-3, clip = 5.0;
  int sparse = 1;
  app.add_option("--minibatch", minibatch, "sentences per update")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--embed", cfg.embed, "word vector size")->capture_default_str();
  app.add_option("--hidden", cfg.hidden, "LSTM size")->capture_default_str();
  app.add_option("--layers", cfg.layers, "stacked LSTM layers")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--dropout", cfg.dropout, "dropout around the LSTM (training only)")->capture_default_str();
  app.add_option("--lr", lr, "Adam learning rate")->capture_default_str();
  app.add_option("--clip", clip, "clip the gradient norm to this (0: no clipping)")->capture_default_str();
  app.add_option("--sparse", sparse, "1: lazy Adam on the embedding rows a batch uses")->capture_default_str();
  app.add_flag("--torch-init", cfg.torch_init, "initialise as PyTorch's nn.Embedding, nn.LSTM and nn.Linear do");

  return fx::run_main("rnnlm", app, argc, argv, [&]() -> int {
    fx::apply_common_flags(app, opts);
    cfg.sparse = sparse != 0;
    const bool training = !opts.evaluate_only();
    flare::io::Split<std::vector<std::string>> split;
    if (opts.eval.empty()) {
      split = flare::io::split_heldout(flare::io::read_text(fx::data_file(opts.data, "text/dev.txt")), 10);
      split.train = fx::take(std::move(split.train), opts.limit);
      split.heldout = fx::take(std::move(split.heldout), opts.dev_limit);
    }
    flare::io::Vocabulary vocab;
    if (!opts.load.empty()) {
      fx::ModelInfo info = fx::read_model_info(opts.load, "rnnlm");
      cfg = fx::LMConfig::from_json(info.config);
      vocab = info.vocab("words");
    } else {
      vocab = fx::word_lm_vocab(split.train);
    }

    flare::nn::Model m;
    fx::LanguageModel model(m, vocab.size(), cfg, "rnnlm");
    const std::vector<flare::Parameter*> params = m.parameters();
    flare::optim::Adam opt(params, flare::optim::AdamOptions(lr));
    if (!opts.load.empty()) fx::load_model(opts.load, params, training ? &opt : nullptr);
    model.eval();
    fx::ModelInfo info{"rnnlm", cfg.to_json(), {}, ""};
    info.vocabs.emplace("words", vocab);

    if (!opts.eval.empty()) {
      const fx::LMScore s = fx::lm_score(model, fx::sentence_batches(flare::io::read_text(opts.eval), vocab, 64));
      std::cerr << opts.eval << ": perplexity " << s.perplexity() << " over " << s.targets << " words\n";
      fx::print_summary(fx::summary("rnnlm", "perplexity", std::nullopt, s.perplexity(), nullptr, ""));
      return 0;
    }
    const auto held = fx::sentence_batches(split.heldout, vocab, 64);
    auto perplexity = [&] { return fx::lm_score(model, held).perplexity(); };
    if (!training) {
      fx::print_summary(fx::summary("rnnlm", "perplexity", perplexity(), std::nullopt, nullptr, ""));
      return 0;
    }
    const auto train = fx::sentence_batches(split.train, vocab, minibatch);
    std::cerr << "rnnlm: " << split.train.size() << " training sentences in " << train.size() << " batches, "
              << split.heldout.size() << " held out, vocabulary " << vocab.size() << ", " << m.num_elements()
              << " parameters\n";
    flare::Graph g;
    fx::TrainHooks hooks;
    int64_t sentences = 0, words = 0;
    hooks.step = [&](size_t i) {
      g.clear();
      flare::Expr loss = model.loss(g, train[i]);
      g.backward(loss);
      sentences += train[i].sequences;
      words += train[i].real_targets;
      // Per word, so that the progress line reads in nats per word (log perplexity).
      return loss.item() / double(train[i].real_targets);
    };
    hooks.evaluate = perplexity;
    hooks.higher_is_better = false;
    hooks.set_training = [&](bool on) { model.train(on); };
    hooks.clip_norm = clip;
    if (!opts.save.empty()) hooks.on_best = [&] { fx::save_model(opts.save, info, params, &opt); };
    fx::TrainReport report = fx::fit(opts, params, opt, train.size(), hooks);
    report.examples = sentences;
    std::cerr << "rnnlm: best held-out perplexity " << report.dev_metric << " (epoch " << report.best_epoch << ")";
    if (!opts.save.empty()) std::cerr << ", saved to " << opts.save;
    std::cerr << "\n";
    nlohmann::json j = fx::summary("rnnlm", "perplexity", report.dev_metric, std::nullopt, &report, opts.save);
    j["words_per_s"] = report.train_seconds > 0 ? double(words) / report.train_seconds : 0.0;
    j["minibatch"] = minibatch;
    fx::print_summary(j);
    return 0;
  });
}
