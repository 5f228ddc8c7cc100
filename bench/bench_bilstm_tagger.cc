// bilstm-tagger (--char 0) and bilstm-tagger-withchar (--char 1): a BiLSTM tagger over WikiNER
// (tags/dev.txt, sentence i held out when i % 10 == 9); word embedding 128, hidden 50 per
// direction, MLP 32, softmax over the sorted tag set, loss summed over tokens. With --char 1 a
// word seen at most 5 times in training is read by a char BiLSTM (char embedding 20, hidden 64
// per direction). bench/pytorch/bilstm_tagger.py's twin; the model is the tagger example's
// (examples/common/tagger_model.h).
#include "common/cli.h"
#include "common/tagger_model.h"
#include "common/task.h"
#include "flare/io/datasets.h"
#include "flare/optim.h"

namespace fb = flare::bench;
namespace fx = flare::examples;

int main(int argc, char** argv) {
  CLI::App app{"flare bilstm-tagger benchmark: BiLSTM tagger, optionally with char BiLSTMs (data: tags/dev.txt)"};
  fb::TaskArgs args;
  fb::add_task_flags(app, args);
  int chars = 0;
  app.add_option("--char", chars, "1: a char BiLSTM for words seen at most 5 times in training")
      ->capture_default_str()
      ->check(CLI::IsMember({0, 1}));
  int char_packing = 1;
  app.add_option("--char-packing", char_packing,
                 "with --char 1, eager mode: 1 packs a sentence's rare words per character position, 0 runs "
                 "one char BiLSTM per word (an ablation)")
      ->capture_default_str()
      ->check(CLI::IsMember({0, 1}));
  return fb::run_task_main("bench_bilstm_tagger", app, argc, argv, [&] {
    fb::apply_task_flags(args);
    const std::string path = fb::task_file(args, "tags/dev.txt");
    const auto all = flare::io::read_tagged(path);
    auto split = flare::io::split_heldout(all, 10);
    split.train = fx::take(std::move(split.train), args.limit);
    split.heldout = fx::take(std::move(split.heldout), args.dev_limit);
    fx::TaggerConfig cfg;  // embed 128, hidden 50, MLP 32, char embed 20, char hidden 64, rare <= 5
    cfg.chars = chars != 0;
    cfg.sparse = args.sparse != 0;
    cfg.pack_chars = char_packing != 0;
    const fx::TaggerVocabs vocabs = fx::build_tagger_vocabs(split.train, all, cfg);
    const auto train = fx::prepare_tagged(split.train, vocabs, cfg, path, /*known_tags_only=*/true);
    const auto held = fx::prepare_tagged(split.heldout, vocabs, cfg, path, /*known_tags_only=*/false);

    flare::nn::Model m;
    fx::TaggerModel model(m, vocabs, cfg);
    m.to(args.dev());  // before the optimizer, whose state follows the parameters
    flare::optim::Adam opt(m.parameters(), flare::optim::AdamOptions(1e-3));
    model.train();
    const fb::Throughput tp = fb::train_for(args, train.size(), opt, [&](flare::Graph& g, size_t i) {
      return fb::ItemLoss{model.loss(g, train[i]), 1, int64_t(train[i].words.size())};
    });
    model.eval();
    const double acc = fx::tagger_accuracy(model, held);
    int64_t tokens = 0;
    for (const auto& ex : held) tokens += int64_t(ex.words.size());
    fb::print_task_result(chars ? "bilstm-tagger-withchar" : "bilstm-tagger", args, tp, acc, "token_accuracy",
                          int64_t(held.size()), true,
                          {{"char", chars},
                           // Packing applies to the char BiLSTM only: null without one.
                           {"char_packing", chars ? nlohmann::json(char_packing) : nlohmann::json()},
                           {"dev_tokens", tokens},
                           {"vocab_size", vocabs.words.size()},
                           {"chars_size", vocabs.chars.size()},
                           {"tags", vocabs.tags.size()}});
    return 0;
  });
}
