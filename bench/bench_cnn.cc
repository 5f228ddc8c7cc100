// cnn: a Kim (2014) CNN sentence classifier (embedding 128, convolutions of widths 3, 4, 5 with
// 100 maps each, ReLU, max over time, dropout 0.5, linear -> 5 classes), one sentence per
// update; trained on classes/train.txt, dev metric the accuracy on classes/dev.txt
// (bench/pytorch/cnn.py's twin). The model is the cnn example's (examples/common/cnn_model.h)
// with CnnConfig's defaults (torch's initialisation), not the example's training recipe.
#include "common/cli.h"
#include "common/cnn_model.h"
#include "common/task.h"
#include "common/text.h"
#include "flare/io/datasets.h"
#include "flare/optim.h"

namespace fb = flare::bench;
namespace fx = flare::examples;

int main(int argc, char** argv) {
  CLI::App app{"flare cnn benchmark: Kim CNN sentence classifier (data: classes/)"};
  fb::TaskArgs args;
  fb::add_task_flags(app, args);
  return fb::run_task_main("bench_cnn", app, argc, argv, [&] {
    fb::apply_task_flags(args);
    const std::string train_path = fb::task_file(args, "classes/train.txt");
    const std::string dev_path = fb::task_file(args, "classes/dev.txt");
    const auto train_raw = fx::take(flare::io::read_labelled(train_path), args.limit);
    const flare::io::Vocabulary vocab = fx::first_seen_vocab(fx::sentence_words(train_raw));
    fx::CnnConfig cfg;  // embed 128, widths 3/4/5 x 100 maps, dropout 0.5, 5 classes
    cfg.sparse = args.sparse != 0;
    const auto train = fx::prepare_sentiment(train_raw, vocab, cfg.classes, train_path);
    const auto dev = fx::prepare_sentiment(fx::take(flare::io::read_labelled(dev_path), args.dev_limit), vocab,
                                           cfg.classes, dev_path);

    flare::nn::Model m;
    fx::CnnClassifier model(m, vocab.size(), cfg);
    flare::optim::Adam opt(m.parameters(), flare::optim::AdamOptions(1e-3));
    model.train();
    const fb::Throughput tp = fb::train_for(args, train.size(), opt, [&](flare::Graph& g, size_t i) {
      return fb::ItemLoss{model.loss(g, train[i]), 1, int64_t(train[i].ids.size())};
    });
    model.eval();
    const double acc = fx::cnn_accuracy(model, dev);
    fb::print_task_result("cnn", args, tp, acc, "accuracy", int64_t(dev.size()), true,
                          {{"vocab_size", vocab.size()}});
    return 0;
  });
}
