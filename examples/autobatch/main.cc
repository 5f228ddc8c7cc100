// The program docs/autobatch.md walks through: an LSTM sequence classifier written one example
// at a time, trained for one epoch with 64 examples per update, first one example at a time
// (gradients summed) and then auto-batched; it prints both runs' losses (equal to rounding),
// their speed and what the auto-batcher did. The regions between `// [guide:NAME]` and
// `// [guide:end]` are quoted verbatim in docs/autobatch.md (tests/docs/guide_snippets_test.cc
// checks it): edit both together.
#include <chrono>
#include <cstdio>
#include <random>
#include <vector>

#include <CLI/CLI.hpp>

// [guide:includes]
#include "flare/autobatch.h"
#include "flare/flare.h"
#include "flare/nn/nn.h"
#include "flare/optim.h"
// [guide:end]

namespace {

// One example: token ids (lengths differ) and a class, the most common (id mod 3) among them.
struct Example {
  std::vector<int32_t> ids;
  int32_t label = 0;
};

std::vector<Example> make_data(size_t n, uint64_t seed) {
  std::mt19937_64 gen(seed);
  std::uniform_int_distribution<int32_t> token(0, 49), length(3, 30);
  std::vector<Example> data(n);
  for (Example& ex : data) {
    int counts[3] = {0, 0, 0};
    for (int t = length(gen); t > 0; --t) {
      ex.ids.push_back(token(gen));
      ++counts[ex.ids.back() % 3];
    }
    ex.label = counts[1] > counts[ex.label] ? 1 : 0;
    if (counts[2] > counts[ex.label]) ex.label = 2;
  }
  return data;
}

// [guide:model]
// Written for ONE example, as in eager mode: embeddings -> LSTM -> linear on the final state.
struct Classifier {
  flare::nn::Model model;
  flare::nn::Embedding embed{model, 50, 32};
  flare::nn::LSTMCell lstm{model, 32, 64};
  flare::nn::Linear out{model, 64, 3};

  flare::Expr loss(flare::Graph& g, const Example& ex) const {
    const flare::nn::SequenceResult r = flare::nn::run(lstm, embed.sequence(g, ex.ids));
    return flare::pick_neg_log_softmax(out(r.final.h), ex.label);
  }
};
// [guide:end]

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"docs/autobatch.md's program: one epoch one example at a time, then auto-batched"};
  size_t n = 1280, batch_size = 64;
  app.add_option("--examples", n, "training examples")->capture_default_str();
  app.add_option("--batch", batch_size, "examples per update")->capture_default_str()->check(CLI::PositiveNumber);
  CLI11_PARSE(app, argc, argv);
  const std::vector<Example> data = make_data(n, 1);

  // One example at a time: each example's graph is computed as it is built; the gradients of
  // `batch_size` examples are summed into one update.
  flare::manual_seed(1);
  Classifier eager_model;
  flare::optim::Adam eager_opt(eager_model.model.parameters(), flare::optim::AdamOptions(1e-3));
  double eager_loss = 0;
  auto start = std::chrono::steady_clock::now();
  {
    flare::Graph g;
    for (size_t first = 0; first < data.size(); first += batch_size) {
      for (size_t i = first; i < std::min(data.size(), first + batch_size); ++i) {
        g.clear();
        flare::Expr loss = eager_model.loss(g, data[i]);
        g.backward(loss);
        eager_loss += loss.item();
      }
      eager_opt.step();
      eager_opt.zero_grad();
    }
  }
  const double eager_s = seconds_since(start);

  // The same schedule, auto-batched: the same model code, the same updates.
  flare::manual_seed(1);
  Classifier model;
  flare::optim::Adam opt(model.model.parameters(), flare::optim::AdamOptions(1e-3));
  double batched_loss = 0;
  start = std::chrono::steady_clock::now();
  // [guide:loop]
  flare::Autobatch ab;      // the executor: keeps its buffers from one batch to the next
  flare::Graph g;
  g.set_executor(&ab);      // the graph is lazy now: nodes are recorded, not computed
  for (size_t first = 0; first < data.size(); first += batch_size) {
    std::vector<flare::Expr> losses;
    for (size_t i = first; i < std::min(data.size(), first + batch_size); ++i)
      losses.push_back(model.loss(g, data[i]));  // no value is read here
    flare::Expr loss = flare::sum(losses);
    g.backward(loss);       // runs the batch's nodes as batched kernels, then backward
    batched_loss += loss.item();
    opt.step();
    opt.zero_grad();
    g.clear();              // the executor stays set for the next batch
  }
  // [guide:end]
  const double batched_s = seconds_since(start);

  // [guide:stats]
  const flare::AutobatchStats& st = ab.stats();
  std::printf("%llu nodes in %llu kernel calls (%.1f nodes per call), backward %llu calls\n",
              (unsigned long long)st.nodes, (unsigned long long)st.forward_kernels, st.mean_group_size(),
              (unsigned long long)st.backward_kernels);
  std::printf("copied %.1f%% of operand elements, %.1f%% of the executor's time copying\n",
              100 * st.copy_fraction(), 100 * st.copy_time_share());
  std::printf("executor %.3f s, of which planning (signatures, schedule, layout) %.3f s\n", st.total_seconds,
              st.schedule_seconds);
  // [guide:end]
  std::printf("mean loss: one at a time %.6f, auto-batched %.6f\n", eager_loss / double(n),
              batched_loss / double(n));
  std::printf("examples/s: one at a time %.0f, auto-batched %.0f (%.2fx)\n", double(n) / eager_s,
              double(n) / batched_s, eager_s / batched_s);
  return 0;
}
