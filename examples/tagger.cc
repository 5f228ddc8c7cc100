// Named-entity tagging with a bidirectional LSTM (WikiNER, tags/dev.txt), as in the DyNet
// benchmark's bilstm-tagger; with --char, rare words are read character by character by a
// second BiLSTM (bilstm-tagger-withchar). The file is split by the rule the benchmarks share:
// sentence i (0-based, blank lines not counted) is held out when i % 10 == 9, the rest trains.
// Reports token accuracy on the held-out sentences after each epoch and keeps the best epoch.
#include <iostream>

#include "common/cli.h"
#include "common/model_file.h"
#include "common/tagger_model.h"
#include "common/training.h"
#include "flare/optim.h"

namespace fx = flare::examples;

int main(int argc, char** argv) {
  CLI::App app{"Named-entity tagger: a BiLSTM over words, optionally over the characters of rare words "
               "(data: tags/dev.txt, every 10th sentence held out)"};
  fx::CommonOptions opts;
  opts.epochs = 10;
  fx::FlagSet flags;
  flags.batching = true;  // --autobatch N, --update-every N
  fx::add_common_flags(app, opts, flags);
  fx::TaggerConfig cfg;
  double lr = 1e-3, clip = 5.0;
  int sparse = 1;
  app.add_flag("--char", cfg.chars, "represent words seen at most --rare-max times by a character BiLSTM");
  app.add_option("--rare-max", cfg.rare_max, "with --char: the count up to which a word is rare")
      ->capture_default_str();
  app.add_option("--embed", cfg.embed, "word vector size (= 2 x --char-hidden with --char)")->capture_default_str();
  app.add_option("--hidden", cfg.hidden, "sentence LSTM size per direction")->capture_default_str();
  app.add_option("--mlp", cfg.mlp, "hidden layer between the BiLSTM and the tag scores")->capture_default_str();
  app.add_option("--char-embed", cfg.char_embed, "character vector size")->capture_default_str();
  app.add_option("--char-hidden", cfg.char_hidden, "character LSTM size per direction")->capture_default_str();
  app.add_option("--lr", lr, "Adam learning rate")->capture_default_str();
  app.add_option("--clip", clip, "clip the gradient norm to this (0: no clipping)")->capture_default_str();
  app.add_option("--sparse", sparse, "1: lazy Adam on the embedding rows a sentence uses")->capture_default_str();

  return fx::run_main("tagger", app, argc, argv, [&]() -> int {
    fx::apply_common_flags(app, opts);
    cfg.sparse = sparse != 0;
    const bool training = !opts.evaluate_only();
    fx::TaggerVocabs vocabs;
    flare::io::Split<flare::io::TaggedSentence> split;
    std::string data_path;
    if (opts.eval.empty()) {
      data_path = fx::data_file(opts.data, "tags/dev.txt");
      const auto all = flare::io::read_tagged(data_path);
      split = flare::io::split_heldout(all, 10);
      split.train = fx::take(std::move(split.train), opts.limit);
      split.heldout = fx::take(std::move(split.heldout), opts.dev_limit);
      if (opts.load.empty()) vocabs = fx::build_tagger_vocabs(split.train, all, cfg);
    }
    if (!opts.load.empty()) {
      fx::ModelInfo info = fx::read_model_info(opts.load, "tagger");
      cfg = fx::TaggerConfig::from_json(info.config);
      vocabs.words = info.vocab("words");
      vocabs.chars = info.vocab("chars");
      vocabs.tags = info.vocab("tags");
    }

    flare::nn::Model m;
    fx::TaggerModel model(m, vocabs, cfg);
    m.to(opts.dev());  // before the optimizer, whose state follows the parameters
    const std::vector<flare::Parameter*> params = m.parameters();
    flare::optim::Adam opt(params, flare::optim::AdamOptions(lr));
    if (!opts.load.empty()) fx::load_model(opts.load, params, training ? &opt : nullptr);
    model.eval();
    fx::ModelInfo info{"tagger", cfg.to_json(), {}, ""};
    info.vocabs.emplace("words", vocabs.words);
    info.vocabs.emplace("chars", vocabs.chars);
    info.vocabs.emplace("tags", vocabs.tags);

    if (!opts.eval.empty()) {
      const auto data =
          fx::prepare_tagged(flare::io::read_tagged(opts.eval), vocabs, cfg, opts.eval, /*known_tags_only=*/false);
      const double acc = fx::tagger_accuracy(model, data);
      std::cerr << opts.eval << ": token accuracy " << acc << " on " << data.size() << " sentences\n";
      fx::print_summary(fx::summary("tagger", "token_accuracy", std::nullopt, acc, nullptr, ""));
      return 0;
    }
    const auto held = fx::prepare_tagged(split.heldout, vocabs, cfg, data_path, false);
    if (!training) {
      const double acc = fx::tagger_accuracy(model, held);
      fx::print_summary(fx::summary("tagger", "token_accuracy", acc, std::nullopt, nullptr, ""));
      return 0;
    }
    const auto train = fx::prepare_tagged(split.train, vocabs, cfg, data_path, true);
    std::cerr << "tagger: " << train.size() << " training sentences, " << held.size() << " held out, "
              << vocabs.words.size() << " words, " << vocabs.chars.size() << " characters, " << vocabs.tags.size()
              << " tags, " << m.num_elements() << " parameters\n";
    fx::TrainHooks hooks;
    // fit() runs it one example at a time, or --autobatch N examples per batched graph.
    hooks.loss = [&](flare::Graph& g, size_t i) { return model.loss(g, train[i]); };
    hooks.evaluate = [&] { return fx::tagger_accuracy(model, held); };
    hooks.set_training = [&](bool on) { model.train(on); };
    hooks.clip_norm = clip;
    if (!opts.save.empty()) hooks.on_best = [&] { fx::save_model(opts.save, info, params, &opt); };
    const fx::TrainReport report = fx::fit(opts, params, opt, train.size(), hooks);
    std::cerr << "tagger: best held-out token accuracy " << report.dev_metric << " (epoch " << report.best_epoch
              << ")";
    if (!opts.save.empty()) std::cerr << ", saved to " << opts.save;
    std::cerr << "\n";
    fx::print_summary(fx::summary("tagger", "token_accuracy", report.dev_metric, std::nullopt, &report, opts.save));
    return 0;
  });
}
