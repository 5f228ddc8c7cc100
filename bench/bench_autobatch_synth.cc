// bench_autobatch_synth: auto-batching on synthetic data shaped like the benchmark tasks (no data
// files needed), to measure the executor itself. Models as in bench/README.md:
//   tagger     embedding 128, bi-LSTM hidden 50, per token tanh(W1 [f;b] + b1) (32) -> 9 tags
//   sentiment  embedding 128, forward and backward LSTM hidden 128, final states -> 5 classes
//   treenn     binary Tree-LSTM 128 over random trees, a 5-class loss at every node
// Sentence lengths and tree sizes are drawn around the real data's (SST: mean ~19 words).
// Modes: eager (one graph per example), autobatch (--batch examples per lazy graph), handbatch
// (sentiment only: sentences of equal length as one batch of [dim]xB vectors, the manual
// mini-batching reference). --update 1 adds one dense Adam step per update (per example in
// eager mode, per batch otherwise), as the real benchmarks do. Prints one JSON line.
#include <algorithm>
#include <ctime>
#include <iostream>
#include <numeric>
#include <random>

#include <CLI/CLI.hpp>

#include "common/bench_util.h"
#include "flare/autobatch.h"
#include "flare/flare.h"
#include "flare/nn/nn.h"
#include "flare/optim.h"

namespace fb = flare::bench;
using namespace flare;

namespace {

struct Example {
  std::vector<int32_t> ids, tags;
  int32_t label = 0;
  // Trees: node k has children (left[k], right[k]) or is a leaf (-1) with word ids[k]; nodes
  // are in post-order, the root last; every node has a label in tags.
  std::vector<int32_t> left, right;
};

constexpr int kVocab = 5000;

int draw_length(std::mt19937_64& rng) {
  std::gamma_distribution<double> gd(4.0, 19.0 / 4.0);
  return std::clamp(int(gd(rng)) + 1, 2, 60);
}

// A random binary tree over n leaves, post-order.
void random_tree(Example& e, int n, std::mt19937_64& rng) {
  std::vector<int32_t> stack;  // indices of subtrees not yet joined
  int leaves = 0;
  while (leaves < n || stack.size() > 1) {
    const bool join = stack.size() >= 2 && (leaves == n || rng() % 2 == 0);
    const int32_t k = int32_t(e.left.size());
    if (join) {
      const int32_t r = stack.back();
      stack.pop_back();
      const int32_t l = stack.back();
      stack.pop_back();
      e.left.push_back(l), e.right.push_back(r), e.ids.push_back(-1);
    } else {
      e.left.push_back(-1), e.right.push_back(-1), e.ids.push_back(int32_t(rng() % kVocab));
      ++leaves;
    }
    e.tags.push_back(int32_t(rng() % 5));
    stack.push_back(k);
  }
}

std::vector<Example> make_data(const std::string& task, int n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<Example> v(static_cast<size_t>(n));
  for (Example& e : v) {
    const int len = draw_length(rng);
    e.label = int32_t(rng() % 5);
    if (task == "treenn") {
      random_tree(e, len, rng);
      continue;
    }
    for (int t = 0; t < len; ++t) {
      e.ids.push_back(int32_t(rng() % kVocab));
      e.tags.push_back(int32_t(rng() % 9));
    }
  }
  return v;
}

struct Models {
  nn::Model m;
  nn::Embedding emb;
  nn::LSTMCell f, b;
  nn::Linear l1, l2;
  nn::TreeLSTM tree;
  Models(const std::string& task)
      : emb(m, kVocab, 128),
        f(m, 128, task == "tagger" ? 50 : 128, {}, "fwd"),
        b(m, 128, task == "tagger" ? 50 : 128, {}, "bwd"),
        l1(m, task == "tagger" ? 100 : task == "treenn" ? 128 : 256, task == "tagger" ? 32 : 5, {}, "l1"),
        l2(m, 32, 9, {}, "l2"),
        tree(m, 128, 128) {}
};

Expr tagger_loss(Graph& g, Models& M, const Example& e) {
  std::vector<Expr> xs = M.emb.sequence(g, e.ids);
  nn::SequenceResult fw = nn::run(M.f, xs), bw = nn::run(M.b, xs, {}, true);
  std::vector<Expr> ls;
  for (size_t t = 0; t < xs.size(); ++t) {
    Expr h = tanh(M.l1(concat({fw.outputs[t], bw.outputs[t]})));
    ls.push_back(pick_neg_log_softmax(M.l2(h), e.tags[t]));
  }
  return sum(ls);
}

Expr sentiment_loss(Graph& g, Models& M, const Example& e) {
  std::vector<Expr> xs = M.emb.sequence(g, e.ids);
  nn::SequenceResult fw = nn::run(M.f, xs), bw = nn::run(M.b, xs, {}, true);
  return pick_neg_log_softmax(M.l1(concat({fw.final.h, bw.final.h})), e.label);
}

Expr treenn_loss(Graph& g, Models& M, const Example& e) {
  nn::TreeLSTM::Params p = M.tree.bind(g);
  Expr table = g.param(M.emb.table());
  std::vector<nn::RNNState> st(e.left.size());
  std::vector<Expr> ls;
  for (size_t k = 0; k < e.left.size(); ++k) {
    st[k] = e.left[k] < 0 ? M.tree.leaf(p, lookup(table, e.ids[k]))
                          : M.tree.node(p, st[size_t(e.left[k])], st[size_t(e.right[k])]);
    ls.push_back(pick_neg_log_softmax(M.l1(st[k].h), e.tags[k]));
  }
  return sum(ls);
}

// Sentences of one length as one batch: ids[t][b], labels[b].
Expr sentiment_batch_loss(Graph& g, Models& M, const std::vector<const Example*>& batch) {
  const size_t len = batch[0]->ids.size();
  std::vector<std::vector<int32_t>> ids(batch.size());
  std::vector<int32_t> labels;
  for (size_t b = 0; b < batch.size(); ++b) {
    ids[b] = batch[b]->ids;
    labels.push_back(batch[b]->label);
  }
  (void)len;
  std::vector<Expr> xs = M.emb.sequence(g, ids);
  nn::SequenceResult fw = nn::run(M.f, xs), bw = nn::run(M.b, xs, {}, true);
  return sum_batch(pick_neg_log_softmax(M.l1(concat({fw.final.h, bw.final.h})), labels));
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"auto-batching on synthetic data"};
  std::string task = "tagger", mode = "autobatch", strategy = "agenda";
  int batch = 64, examples = 1280, update = 0, plan = 1, flat = 1;
  uint64_t seed = 1;
  app.add_option("--task", task)->check(CLI::IsMember({"tagger", "sentiment", "treenn"}));
  app.add_option("--mode", mode)->check(CLI::IsMember({"eager", "autobatch", "handbatch"}));
  app.add_option("--batch", batch);
  app.add_option("--examples", examples, "examples timed (after one warm-up batch)");
  app.add_option("--update", update, "1: one Adam step per update");
  app.add_option("--strategy", strategy)->check(CLI::IsMember({"agenda", "depth", "none"}));
  app.add_option("--plan-layout", plan);
  app.add_option("--flat", flat);
  app.add_option("--seed", seed);
  CLI11_PARSE(app, argc, argv);
  manual_seed(seed);

  Models M(task);
  optim::Adam opt(M.m.parameters(), optim::AdamOptions(1e-3));
  const std::vector<Example> data = make_data(task, examples + batch, seed);
  auto loss_of = [&](Graph& g, const Example& e) {
    return task == "tagger" ? tagger_loss(g, M, e) : task == "sentiment" ? sentiment_loss(g, M, e) : treenn_loss(g, M, e);
  };
  AutobatchOptions ao;
  ao.strategy = strategy == "agenda" ? BatchStrategy::agenda : strategy == "depth" ? BatchStrategy::depth : BatchStrategy::none;
  ao.plan_layout = plan != 0;
  ao.flat_elementwise = flat != 0;
  Autobatch ab(ao);
  Graph g;
  int64_t words = 0;
  auto run_range = [&](size_t begin, size_t end) {
    if (mode == "eager") {
      for (size_t i = begin; i < end; ++i) {
        g.clear();
        g.backward(loss_of(g, data[i]));
        if (update) opt.step(), opt.zero_grad();
      }
    } else if (mode == "autobatch") {
      g.set_executor(&ab);
      for (size_t k = begin; k < end; k += size_t(batch)) {
        g.clear();
        std::vector<Expr> ls;
        for (size_t i = k; i < std::min(end, k + size_t(batch)); ++i) ls.push_back(loss_of(g, data[i]));
        g.backward(sum(ls));
        if (update) opt.step(), opt.zero_grad();
      }
    } else {
      // Equal-length runs of the range's sentences, sorted by length, up to `batch` each.
      std::vector<const Example*> sorted;
      for (size_t i = begin; i < end; ++i) sorted.push_back(&data[i]);
      std::stable_sort(sorted.begin(), sorted.end(),
                       [](const Example* a, const Example* b) { return a->ids.size() < b->ids.size(); });
      for (size_t k = 0; k < sorted.size();) {
        size_t e = k + 1;
        while (e < sorted.size() && e - k < size_t(batch) && sorted[e]->ids.size() == sorted[k]->ids.size()) ++e;
        g.clear();
        g.backward(sentiment_batch_loss(g, M, std::vector<const Example*>(sorted.begin() + long(k), sorted.begin() + long(e))));
        if (update) opt.step(), opt.zero_grad();
        k = e;
      }
    }
  };
  if (mode == "handbatch" && task != "sentiment") {
    std::cerr << "handbatch is implemented for --task sentiment only\n";
    return 2;
  }
  run_range(0, size_t(batch));  // warm-up
  ab.reset_stats();
  for (size_t i = size_t(batch); i < data.size(); ++i) words += int64_t(data[i].ids.size());
  fb::Stopwatch clock;
  const std::clock_t cpu0 = std::clock();
  run_range(size_t(batch), data.size());
  const double secs = clock.seconds();
  const double cpu = double(std::clock() - cpu0) / CLOCKS_PER_SEC;
  const AutobatchStats& s = ab.stats();
  nlohmann::json j = {{"task", task + "-synthetic"}, {"mode", mode}, {"batch", mode == "eager" ? 1 : batch},
                      {"update", update}, {"strategy", strategy}, {"plan_layout", plan}, {"flat", flat},
                      {"examples", examples}, {"seconds", secs}, {"cpu_seconds", cpu},
                      {"examples_per_cpu_s", examples / cpu}, {"examples_per_s", examples / secs},
                      {"words_per_s", double(words) / secs}};
  if (mode == "autobatch") {
    j["copy_fraction"] = s.copy_fraction();
    j["copy_time_share"] = s.copy_time_share();
    j["schedule_time_share"] = s.total_seconds > 0 ? s.schedule_seconds / s.total_seconds : 0.0;
    j["executor_time_share"] = s.total_seconds / secs;
    j["mean_group_size"] = s.mean_group_size();
    j["forward_kernels_per_example"] = double(s.forward_kernels) / examples;
    j["backward_kernels_per_example"] = double(s.backward_kernels) / examples;
    j["nodes_per_example"] = double(s.nodes) / examples;
  }
  fb::print_result(j);
  return 0;
}
