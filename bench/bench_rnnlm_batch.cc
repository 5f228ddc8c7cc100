// rnnlm-batch: a word-level LSTM language model (embedding 128, one LSTM layer of hidden 256,
// softmax over the vocabulary) on text/dev.txt (sentence i held out when i % 10 == 9), trained
// on mini-batches of --minibatch sentences of similar length (sorted, cut into groups whose
// order is shuffled each epoch), padding masked, loss summed. dev_metric: held-out perplexity.
// bench/pytorch/rnnlm_batch.py's twin; the model and batches are the rnnlm example's
// (examples/common/lm_model.h, lm_data.h).
#include "common/cli.h"
#include "common/lm_data.h"
#include "common/lm_model.h"
#include "common/task.h"
#include "flare/io/datasets.h"
#include "flare/optim.h"

namespace fb = flare::bench;
namespace fx = flare::examples;

int main(int argc, char** argv) {
  CLI::App app{"flare rnnlm-batch benchmark: mini-batched LSTM language model (data: text/dev.txt)"};
  fb::TaskArgs args;
  fb::add_task_flags(app, args);
  int64_t minibatch = 16;
  app.add_option("--minibatch", minibatch, "sentences per update")->capture_default_str()->check(CLI::PositiveNumber);
  // PyTorch's initialisation by default, so that the perplexity printed beside the speed compares
  // like with like (bench/pytorch/rnnlm_batch.py uses nn.Embedding's, nn.LSTM's and nn.Linear's).
  std::string init = "torch";
  app.add_option("--init", init, "initialisation: torch (PyTorch's defaults) or flare (flare's)")
      ->capture_default_str()
      ->check(CLI::IsMember({"torch", "flare"}));
  return fb::run_task_main("bench_rnnlm_batch", app, argc, argv, [&] {
    fb::apply_task_flags(args);
    auto split = flare::io::split_heldout(flare::io::read_text(fb::task_file(args, "text/dev.txt")), 10);
    // --limit counts mini-batches, as examples_per_s counts sentences within them.
    split.heldout = fx::take(std::move(split.heldout), args.dev_limit);
    const flare::io::Vocabulary vocab = fx::word_lm_vocab(split.train);
    const auto train = fx::take(fx::sentence_batches(split.train, vocab, minibatch), args.limit);
    const auto held = fx::sentence_batches(split.heldout, vocab, 64);

    fx::LMConfig cfg;  // embed 128, hidden 256, one layer, no dropout
    cfg.sparse = args.sparse != 0;
    cfg.torch_init = init == "torch";
    flare::nn::Model m;
    fx::LanguageModel model(m, vocab.size(), cfg, "rnnlm");
    m.to(args.dev());  // before the optimizer, whose state follows the parameters
    flare::optim::Adam opt(m.parameters(), flare::optim::AdamOptions(1e-3));
    model.train();
    const fb::Throughput tp = fb::train_for(args, train.size(), opt, [&](flare::Graph& g, size_t i) {
      return fb::ItemLoss{model.loss(g, train[i]), train[i].sequences, train[i].real_targets};
    });
    model.eval();
    const fx::LMScore score = fx::lm_score(model, held);
    fb::print_task_result("rnnlm-batch", args, tp, score.perplexity(), "perplexity", int64_t(split.heldout.size()),
                          true,
                          {{"minibatch", minibatch}, {"dev_words", score.targets}, {"vocab_size", vocab.size()}, {"init", init}});
    return 0;
  });
}
