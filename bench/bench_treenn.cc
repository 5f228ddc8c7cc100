// treenn: a binary Tree-LSTM (word embedding 128, hidden 128) over SST parse trees, a softmax
// over the 5 labels at every node with the losses summed; trained on trees/train.txt, dev
// metric the root accuracy on trees/dev.txt (bench/pytorch/treenn.py's twin). The model is the
// treelstm example's (examples/common/treelstm_model.h), without dropout.
#include "common/cli.h"
#include "common/task.h"
#include "common/text.h"
#include "common/treelstm_model.h"
#include "flare/io/tree.h"
#include "flare/optim.h"

namespace fb = flare::bench;
namespace fx = flare::examples;

int main(int argc, char** argv) {
  CLI::App app{"flare treenn benchmark: binary Tree-LSTM sentiment (data: trees/)"};
  fb::TaskArgs args;
  fb::add_task_flags(app, args);
  return fb::run_task_main("bench_treenn", app, argc, argv, [&] {
    fb::apply_task_flags(args);
    const std::string train_path = fb::task_file(args, "trees/train.txt");
    const std::string dev_path = fb::task_file(args, "trees/dev.txt");
    const auto train_raw = fx::take(flare::io::read_trees(train_path), args.limit);
    const flare::io::Vocabulary vocab = fx::first_seen_vocab(fx::tree_words(train_raw));
    fx::TreeConfig cfg;  // embed 128, hidden 128, 5 classes, no dropout
    cfg.sparse = args.sparse != 0;
    const auto train = fx::prepare_trees(train_raw, vocab, cfg.classes, train_path);
    const auto dev = fx::prepare_trees(fx::take(flare::io::read_trees(dev_path), args.dev_limit), vocab,
                                       cfg.classes, dev_path);

    flare::nn::Model m;
    fx::TreeSentimentModel model(m, vocab.size(), cfg);
    m.to(args.dev());  // before the optimizer, whose state follows the parameters
    flare::optim::Adam opt(m.parameters(), flare::optim::AdamOptions(1e-3));
    model.train();
    const fb::Throughput tp = fb::train_for(args, train.size(), opt, [&](flare::Graph& g, size_t i) {
      return fb::ItemLoss{model.loss(g, train[i]), 1, train[i].leaves};
    });
    model.eval();
    const double acc = fx::tree_root_accuracy(model, dev);
    fb::print_task_result("treenn", args, tp, acc, "root_accuracy", int64_t(dev.size()), true,
                          {{"vocab_size", vocab.size()}});
    return 0;
  });
}
