// A character-level LSTM language model over any UTF-8 text file (the flagship demo trains it
// on Debian's fortunes). The text is cut into blocks of 2,000 characters and block i is held
// out when i % 10 == 9; training reads windows of --seq-len characters, --batch windows per
// update. Reports bits per character on the held-out blocks after each epoch, keeps the best
// epoch, and samples text from the model with a temperature (--generate N).
#include <cmath>
#include <iostream>
#include <limits>

#include "common/cli.h"
#include "common/lm_data.h"
#include "common/lm_model.h"
#include "common/model_file.h"
#include "common/text.h"
#include "common/training.h"
#include "flare/optim.h"

namespace fx = flare::examples;

namespace {

// Feeds `prime` (or a line break) to the model, then draws n characters.
std::string generate(const fx::LanguageModel& model, const flare::io::Vocabulary& vocab, const std::string& prime,
                     int64_t n, double temperature, uint64_t seed) {
  std::mt19937_64 gen(seed);
  flare::Graph g;
  fx::LanguageModel::State state;
  std::vector<double> scores;
  std::vector<std::string> start = fx::utf8_chars(prime.empty() ? std::string("\n") : prime);
  for (const std::string& c : start) {
    g.clear();
    scores = model.step(g, vocab.id(c), state);
  }
  std::string out = prime;
  for (int64_t k = 0; k < n; ++k) {
    // Never draw the unknown character: it stands for text the model was not trained on.
    scores[size_t(vocab.unk_id())] = -std::numeric_limits<double>::infinity();
    const int32_t id = fx::sample_index(scores, temperature, gen);
    out += vocab.word(id);
    g.clear();
    scores = model.step(g, id, state);
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Character-level LSTM language model over a text file; bits per character and sampling"};
  fx::CommonOptions opts;
  opts.epochs = 20;
  fx::add_common_flags(app, opts);
  std::string text;
  fx::LMConfig cfg;
  // Defaults for the two-minute demo on one thread: a model small enough for a few thousand
  // updates in that time (many small updates beat fewer large ones at this budget).
  cfg.embed = 48;
  cfg.hidden = 192;
  cfg.sparse = false;
  int64_t seq_len = 32, batch = 16, generate_n = 0;
  double lr = 5e-3, clip = 5.0, temperature = 0.7;
  std::string prime;
  app.add_option("--text", text, "the UTF-8 text to model (default: DATA/text/dev.txt)");
  app.add_option("--embed", cfg.embed, "character vector size")->capture_default_str();
  app.add_option("--hidden", cfg.hidden, "LSTM size")->capture_default_str();
  app.add_option("--layers", cfg.layers, "stacked LSTM layers")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--dropout", cfg.dropout, "dropout around the LSTM (training only)")->capture_default_str();
  CLI::Option* seq_len_flag = app.add_option("--seq-len", seq_len, "characters per window (default: 32, or the checkpoint's)")
                                  ->capture_default_str()
                                  ->check(CLI::PositiveNumber);
  app.add_option("--batch", batch, "windows per update")->capture_default_str()->check(CLI::PositiveNumber);
  app.add_option("--lr", lr, "Adam learning rate")->capture_default_str();
  app.add_option("--clip", clip, "clip the gradient norm to this (0: no clipping)")->capture_default_str();
  app.add_option("--generate", generate_n, "after training (or with --load), sample this many characters")
      ->capture_default_str();
  app.add_option("--temperature", temperature, "sampling temperature (0: always the likeliest character)")
      ->capture_default_str();
  app.add_option("--prime", prime, "text to start the sample with (default: a line break)");

  return fx::run_main("charlm", app, argc, argv, [&]() -> int {
    fx::apply_common_flags(app, opts);
    const bool training = !opts.evaluate_only();
    const bool text_given = !text.empty();
    flare::io::Vocabulary vocab;
    fx::CharSplit split;
    // Loading only to generate needs no text at all.
    const bool need_text = opts.eval.empty() && (training || text_given || generate_n == 0 || opts.load.empty());
    if (need_text) {
      if (!text_given) text = fx::data_file(opts.data, "text/dev.txt");
      split = fx::split_chars(fx::read_chars(text));
      if (split.heldout.empty())
        throw flare::IoError(text + ": too short to hold any text out (" + std::to_string(split.train.size()) +
                             " characters; the 10th block of " + std::to_string(fx::kCharBlock) +
                             " is the first held out)");
    }
    if (!opts.load.empty()) {
      fx::ModelInfo info = fx::read_model_info(opts.load, "charlm");
      cfg = fx::LMConfig::from_json(info.config);
      // Held-out windows of the training run's length give the same bits per character.
      if (seq_len_flag->count() == 0) seq_len = info.config.value("seq_len", seq_len);
      vocab = info.vocab("chars");
    } else {
      vocab = fx::char_vocab(split.train);
    }

    flare::nn::Model m;
    fx::LanguageModel model(m, vocab.size(), cfg, "charlm");
    const std::vector<flare::Parameter*> params = m.parameters();
    flare::optim::Adam opt(params, flare::optim::AdamOptions(lr));
    if (!opts.load.empty()) fx::load_model(opts.load, params, training ? &opt : nullptr);
    model.eval();
    fx::ModelInfo info{"charlm", cfg.to_json(), {}, ""};
    info.config["seq_len"] = seq_len;
    info.vocabs.emplace("chars", vocab);

    auto finish = [&](nlohmann::json j) {
      if (generate_n > 0) {
        const std::string sample = generate(model, vocab, prime, generate_n, temperature, opts.seed);
        std::cerr << "charlm: " << generate_n << " characters sampled at temperature " << temperature << ":\n";
        std::cout << sample << std::endl;
        j["sample"] = sample;
      }
      fx::print_summary(j);
      return 0;
    };
    if (!opts.eval.empty()) {
      const fx::LMScore s = fx::lm_score(model, fx::window_batches(vocab.ids(fx::read_chars(opts.eval)), seq_len, 64, true));
      std::cerr << opts.eval << ": " << s.bits_per_token() << " bits per character over " << s.targets
                << " characters\n";
      return finish(fx::summary("charlm", "bits_per_char", std::nullopt, s.bits_per_token(), nullptr, ""));
    }
    if (opts.dev_limit > 0 && int64_t(split.heldout.size()) > opts.dev_limit * seq_len + 1)
      split.heldout.resize(size_t(opts.dev_limit * seq_len + 1));  // --dev-limit counts windows
    std::vector<fx::LMBatch> held;
    if (need_text) held = fx::window_batches(vocab.ids(split.heldout), seq_len, 64, true);
    auto held_bpc = [&] { return fx::lm_score(model, held).bits_per_token(); };
    if (!training)
      return finish(fx::summary("charlm", "bits_per_char", need_text ? std::optional<double>(held_bpc()) : std::nullopt,
                                std::nullopt, nullptr, ""));

    const auto train = fx::take(fx::window_batches(vocab.ids(split.train), seq_len, batch, false),
                                opts.limit > 0 ? (opts.limit + batch - 1) / batch : 0);
    std::cerr << "charlm: " << split.train.size() << " training characters (" << train.size() << " batches of "
              << batch << " x " << seq_len << "), " << split.heldout.size() << " held out, " << vocab.size()
              << " distinct characters, " << m.num_elements() << " parameters\n";
    flare::Graph g;
    fx::TrainHooks hooks;
    int64_t windows = 0, chars = 0;
    hooks.step = [&](size_t i) {
      g.clear();
      flare::Expr loss = model.loss(g, train[i]);
      g.backward(loss);
      windows += train[i].sequences;
      chars += train[i].real_targets;
      // In bits per character, the unit of the held-out metric.
      return loss.item() / (double(train[i].real_targets) * std::log(2.0));
    };
    hooks.evaluate = held_bpc;
    hooks.higher_is_better = false;
    hooks.set_training = [&](bool on) { model.train(on); };
    hooks.clip_norm = clip;
    if (!opts.save.empty()) hooks.on_best = [&] { fx::save_model(opts.save, info, params, &opt); };
    fx::TrainReport report = fx::fit(opts, params, opt, train.size(), hooks);
    report.examples = windows;
    std::cerr << "charlm: best held-out " << report.dev_metric << " bits per character (epoch " << report.best_epoch
              << ")";
    if (!opts.save.empty()) std::cerr << "; model saved to " << opts.save;
    std::cerr << "\n";
    nlohmann::json j = fx::summary("charlm", "bits_per_char", report.dev_metric, std::nullopt, &report, opts.save);
    j["chars_per_s"] = report.train_seconds > 0 ? double(chars) / report.train_seconds : 0.0;
    return finish(j);
  });
}
