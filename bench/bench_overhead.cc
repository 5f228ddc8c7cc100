// Per-node overhead: build + forward + backward of a chain of 1,000 small nodes, in nanoseconds
// per node (per chain step). Variants: tanh (y = tanh(y) on a 32-vector) and affine
// (y = tanh(W y + b), W 32x32, b 32, gradients accumulated into the parameters).
// bench/pytorch/overhead.py does the same in PyTorch.
#include <CLI/CLI.hpp>

#include "common/bench_util.h"
#include "flare/flare.h"

int main(int argc, char** argv) {
  CLI::App app{"flare per-node overhead benchmark"};
  std::string variant = "tanh", data, mode = "eager";
  double seconds = 2.0;
  int nodes = 1000, dim = 32;
  uint64_t seed = 1;
  int sparse = 0;
  app.add_option("--variant", variant, "tanh or affine")->check(CLI::IsMember({"tanh", "affine"}));
  app.add_option("--seconds", seconds, "time to spend measuring");
  app.add_option("--nodes", nodes, "chain length");
  app.add_option("--seed", seed, "random seed");
  app.add_option("--data", data, "unused (accepted for bench/run)");
  app.add_option("--mode", mode, "unused (accepted for bench/run)");
  app.add_option("--sparse", sparse, "unused (accepted for bench/run)");
  CLI11_PARSE(app, argc, argv);

  flare::manual_seed(seed);
  flare::Parameter w("W", flare::Tensor::full(flare::Shape{dim, dim}, 1.0 / dim));
  flare::Parameter b("b", flare::Tensor::full(flare::Shape{dim}, 0.01));
  flare::Tensor x0 = flare::Tensor::full(flare::Shape{dim}, 0.5);
  flare::Graph g;
  const bool affine = variant == "affine";
  auto run_chain = [&] {
    g.clear();
    flare::Expr y = g.input(x0, /*requires_grad=*/!affine);
    if (affine) {
      for (int i = 0; i < nodes; ++i) y = flare::tanh(flare::affine({g.param(b), g.param(w), y}));
    } else {
      for (int i = 0; i < nodes; ++i) y = flare::tanh(y);
    }
    g.backward(flare::sum(y));
  };
  for (int i = 0; i < 20; ++i) run_chain();  // warm-up: arena sized, caches warm
  flare::bench::Stopwatch clock;
  int64_t chains = 0;
  while (clock.seconds() < seconds || chains < 10) {
    run_chain();
    ++chains;
  }
  const double ns = clock.seconds() * 1e9 / double(chains * nodes);
  flare::bench::print_result({{"task", "overhead"}, {"impl", "flare"}, {"variant", variant}, {"ns_per_node", ns},
                              {"nodes", nodes}, {"chains", chains}, {"peak_rss_mb", flare::bench::peak_rss_mb()}});
  return 0;
}
