// Soak: builds, runs and discards many small graphs (a bag-of-words classifier with a sparse
// embedding table, trained by Adam one example at a time) and samples resident memory. The
// arena and every container are reused from graph to graph, so memory must stay flat: the
// program prints one JSON line with RSS after 10,000 graphs and at the end, and exits 1 when
// it grew by more than --tolerance-kib.
//
//     build/bench/bench_soak                      # 1,000,000 graphs
//     build/bench/bench_soak --graphs 200000 --tolerance-kib 256
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <fstream>

#include "common/bench_util.h"
#include "flare/flare.h"
#include "flare/nn/nn.h"
#include "flare/optim/adam.h"

namespace {

// Resident memory now, in KiB (the second field of /proc/self/statm, in pages).
long rss_kib() {
  std::ifstream statm("/proc/self/statm");
  long size = 0, resident = 0;
  statm >> size >> resident;
  return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"flare soak test: memory over a million graphs"};
  int64_t graphs = 1000000, warm = 10000;
  long tolerance_kib = 1024;
  uint64_t seed = 1;
  std::string data, mode;
  app.add_option("--graphs", graphs, "graphs to build, run and discard");
  app.add_option("--warm", warm, "graphs before the first memory sample");
  app.add_option("--tolerance-kib", tolerance_kib, "allowed RSS growth after the first sample");
  app.add_option("--seed", seed, "random seed");
  app.add_option("--data", data, "unused (accepted for bench/run)");
  app.add_option("--mode", mode, "unused (accepted for bench/run)");
  CLI11_PARSE(app, argc, argv);

  flare::manual_seed(seed);
  const int vocab = 1000, dim = 32, hidden = 64, classes = 10;
  flare::nn::Model model;
  flare::nn::Embedding embed(model, vocab, dim, flare::nn::EmbeddingOptions{true, {}});
  flare::nn::Linear layer(model, dim, hidden, {}, "hidden"), out(model, hidden, classes, {}, "out");
  flare::optim::Adam opt(model.parameters(), flare::optim::AdamOptions(1e-3));
  flare::Graph g;
  std::vector<int32_t> ids(6);
  uint64_t state = seed;
  auto next = [&] {  // xorshift: the example stream costs nothing and allocates nothing
    state ^= state << 13, state ^= state >> 7, state ^= state << 17;
    return state;
  };

  flare::bench::Stopwatch clock;
  long rss_warm = 0, rss_max_after = 0;
  size_t arena_warm = 0;
  double loss_sum = 0;
  for (int64_t i = 1; i <= graphs; ++i) {
    for (int32_t& id : ids) id = int32_t(next() % vocab);
    const int32_t label = int32_t(next() % classes);
    g.clear();
    flare::Expr bag = flare::sum_batch(embed.forward(g, ids));
    flare::Expr loss = flare::pick_neg_log_softmax(out(flare::tanh(layer(bag))), label);
    loss_sum += loss.item();
    opt.zero_grad();
    g.backward(loss);
    opt.step();
    if (i == warm) {
      rss_warm = rss_kib();
      arena_warm = g.arena_capacity();
    } else if (i > warm && i % 10000 == 0) {
      rss_max_after = std::max(rss_max_after, rss_kib());
    }
  }
  const long rss_end = rss_kib();
  rss_max_after = std::max(rss_max_after, rss_end);
  const long growth = rss_max_after - rss_warm;
  const bool flat = growth <= tolerance_kib && g.arena_capacity() == arena_warm;
  flare::bench::print_result({{"task", "soak"}, {"impl", "flare"}, {"graphs", graphs},
                              {"rss_kib_at_warm", rss_warm}, {"warm_graphs", warm},
                              {"rss_kib_at_end", rss_end}, {"rss_kib_max_after_warm", rss_max_after},
                              {"growth_kib", growth}, {"arena_bytes_at_warm", arena_warm},
                              {"arena_bytes_at_end", g.arena_capacity()}, {"flat", flat},
                              {"seconds", clock.seconds()}, {"mean_loss", loss_sum / double(graphs)}});
  return flat ? 0 : 1;
}
