// Sentiment classification, the original flare's flagship example: a bidirectional LSTM reads
// a sentence and a linear layer scores its five sentiment classes (SST: 0 very negative ..
// 4 very positive). Trains on classes/train.txt, reports accuracy on classes/dev.txt after each
// epoch, keeps the best epoch. Word vectors are learnt from scratch, or read from a GloVe or
// word2vec text file (--embeddings) and kept fixed (or fine-tuned with --fine-tune).
#include <iostream>
#include <random>

#include "common/cli.h"
#include "common/model_file.h"
#include "common/sentiment_model.h"
#include "common/text.h"
#include "common/training.h"
#include "flare/io/embeddings.h"
#include "flare/optim.h"

namespace fx = flare::examples;

int main(int argc, char** argv) {
  CLI::App app{"Five-class sentence sentiment with a bidirectional LSTM (data: classes/)"};
  fx::CommonOptions opts;
  opts.epochs = 30;
  fx::FlagSet flags;
  flags.batching = true;  // --autobatch N, --update-every N
  fx::add_common_flags(app, opts, flags);
  // Defaults that reach 40% dev accuracy within two minutes on one thread: small vectors and
  // states, mini-batches of same-length sentences, max pooling, dropout and word dropout
  // against overfitting (the benchmark uses SentimentConfig's own defaults: 128, final states).
  fx::SentimentConfig cfg;
  cfg.embed = 64;
  cfg.hidden = 64;
  cfg.dropout = 0.5;
  cfg.pool = "max";
  double lr = 3e-3, clip = 5.0, lr_decay = 1.0;
  std::string embeddings;
  int sparse = 1;
  int64_t batch = 32;
  double word_dropout = 0.2;
  app.add_option("--embed", cfg.embed, "word vector size (ignored with --embeddings)")->capture_default_str();
  app.add_option("--hidden", cfg.hidden, "LSTM size per direction")->capture_default_str();
  app.add_option("--dropout", cfg.dropout, "dropout on word vectors and final states (training only)")
      ->capture_default_str();
  app.add_option("--pool", cfg.pool, "sentence vector from the BiLSTM: final, mean or max")->capture_default_str();
  app.add_option("--word-dropout", word_dropout, "training: replace each word by <unk> with this probability")
      ->capture_default_str();
  app.add_option("--lr", lr, "Adam learning rate")->capture_default_str();
  app.add_option("--lr-decay", lr_decay, "multiply the learning rate by this after every epoch")
      ->capture_default_str();
  app.add_option("--clip", clip, "clip the gradient norm to this (0: no clipping)")->capture_default_str();
  app.add_option("--sparse", sparse, "1: lazy Adam on the embedding rows a sentence uses")->capture_default_str();
  app.add_option("--batch", batch, "sentences per update, grouped by length (1: one at a time)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--embeddings", embeddings, "pre-trained word vectors (GloVe or word2vec text file)");
  app.add_flag("--fine-tune", cfg.fine_tune, "train the pre-trained vectors too");

  return fx::run_main("sentiment", app, argc, argv, [&]() -> int {
    fx::apply_common_flags(app, opts);
    cfg.sparse = sparse != 0;
    flare::io::Vocabulary vocab;
    std::vector<flare::io::LabelledSentence> train_raw;
    const bool training = !opts.evaluate_only();
    if (training || opts.load.empty())
      train_raw = fx::take(flare::io::read_labelled(fx::data_file(opts.data, "classes/train.txt")), opts.limit);
    if (!opts.load.empty()) {
      fx::ModelInfo info = fx::read_model_info(opts.load, "sentiment");
      cfg = fx::SentimentConfig::from_json(info.config);
      vocab = info.vocab("words");
    } else {
      vocab = fx::first_seen_vocab(fx::sentence_words(train_raw));
    }

    flare::io::Embeddings pre;
    if (opts.load.empty() && !embeddings.empty()) {
      flare::io::EmbeddingOptions eo;
      eo.restrict_to = &vocab;
      pre = flare::io::load_embeddings(embeddings, eo);
      cfg.pretrained = true;
      cfg.embed = pre.vectors.shape().dim(1);
      std::cerr << embeddings << ": vectors for " << pre.found << " of " << vocab.size() << " words\n";
    }
    flare::nn::Model m;
    fx::SentimentModel model(m, vocab.size(), cfg);
    if (cfg.pretrained && opts.load.empty()) model.set_embeddings(pre.vectors);
    m.to(opts.dev());  // before the optimizer, whose state follows the parameters
    const std::vector<flare::Parameter*> params = m.parameters();
    flare::optim::Adam opt(params, flare::optim::AdamOptions(lr));
    if (!opts.load.empty()) fx::load_model(opts.load, params, training ? &opt : nullptr);
    model.eval();

    fx::ModelInfo info{"sentiment", cfg.to_json(), {}, ""};
    info.vocabs.emplace("words", vocab);

    if (!opts.eval.empty()) {
      const auto data = fx::prepare_sentiment(flare::io::read_labelled(opts.eval), vocab, cfg.classes, opts.eval);
      const double acc = fx::sentiment_accuracy(model, data);
      std::cerr << opts.eval << ": accuracy " << acc << " on " << data.size() << " sentences\n";
      fx::print_summary(fx::summary("sentiment", "accuracy", std::nullopt, acc, nullptr, ""));
      return 0;
    }
    const std::string dev_path = fx::data_file(opts.data, "classes/dev.txt");
    const auto dev = fx::prepare_sentiment(fx::take(flare::io::read_labelled(dev_path), opts.dev_limit), vocab,
                                           cfg.classes, dev_path);
    if (!training) {
      const double acc = fx::sentiment_accuracy(model, dev);
      fx::print_summary(fx::summary("sentiment", "accuracy", acc, std::nullopt, nullptr, ""));
      return 0;
    }

    // --autobatch and --update-every group single sentences (of any lengths) into an update;
    // hand-made batches of one length (--batch) are the other way of batching.
    if (opts.autobatch > 0 || opts.update_every != 1) {
      if (batch != 1 && app.count("--batch") > 0)
        throw flare::Error("--batch " + std::to_string(batch) +
                           " cannot be combined with --autobatch or --update-every (they batch single sentences)");
      batch = 1;
    }
    const std::string train_path = opts.data + "/classes/train.txt";
    const auto train = fx::batch_by_length(fx::prepare_sentiment(train_raw, vocab, cfg.classes, train_path), batch,
                                           opts.seed);
    std::cerr << "sentiment: " << train_raw.size() << " training sentences in " << train.size() << " batches, " << dev.size() << " dev, vocabulary "
              << vocab.size() << ", " << m.num_elements() << " parameters\n";
    fx::TrainHooks hooks;
    int64_t sentences = 0;
    std::mt19937_64 word_gen(opts.seed);
    std::bernoulli_distribution drop_word(word_dropout);
    // fit() runs it one batch at a time, or --autobatch N sentences per batched graph (the
    // graph copies the word ids, so `noisy` may change before the batch is computed).
    fx::SentimentBatch noisy;
    hooks.loss = [&](flare::Graph& g, size_t i) {
      // Word dropout: the <unk> vector learns to stand for words not seen in training.
      noisy = train[i];
      if (word_dropout > 0)
        for (auto& ids : noisy.ids)
          for (int32_t& id : ids)
            if (drop_word(word_gen)) id = vocab.unk_id();
      sentences += int64_t(train[i].size());
      return model.loss(g, noisy);
    };
    hooks.evaluate = [&] { return fx::sentiment_accuracy(model, dev); };
    hooks.set_training = [&](bool on) { model.train(on); };
    hooks.clip_norm = clip;
    hooks.lr_decay = lr_decay;
    if (!opts.save.empty()) hooks.on_best = [&] { fx::save_model(opts.save, info, params, &opt); };
    fx::TrainReport report = fx::fit(opts, params, opt, train.size(), hooks);
    report.examples = sentences;
    std::cerr << "sentiment: best dev accuracy " << report.dev_metric << " (epoch " << report.best_epoch << ")";
    if (!opts.save.empty()) std::cerr << ", saved to " << opts.save;
    std::cerr << "\n";
    fx::print_summary(fx::summary("sentiment", "accuracy", report.dev_metric, std::nullopt, &report, opts.save));
    return 0;
  });
}
