// A lower bound on the time per sentence of bilstm-tagger-withchar's training step when it is
// auto-batched: the benchmark's matrix products and LSTM cell kernels timed on this machine at
// the largest batches auto-batching --batch sentences could form, as if nothing else cost
// anything (no planning, copies, graph, loss or update). docs/benchmarks.md compares it with
// flare's per-example step to bound what auto-batching this task can gain.
//
// From tags/dev.txt as bench_bilstm_tagger reads it (the same split, vocabulary and rare-word
// rule) it counts, per training sentence, tokens T, rare words R and their characters C. Then,
// per direction of each LSTM, with the gate pre-activations G = W x + U h + b:
//
//   forward    W x  (one row per step: C char steps, T word steps)
//              U h  (every step but a sequence's first: C - R, T - 1)
//              the cell's two element-wise kernels (state, output)
//   backward   dx = G' W, dW += G'^T x, dh = G' U and dU += G'^T h, the cell kernels' gradients
//
// and the tag MLP's two layers over the T positions, forward and backward. Each product is
// timed as one call over B rows: the char LSTM's B = R x batch (every rare word of the batch in
// one product, which only the first character step reaches), the word LSTM's B = batch, the
// MLP's B = T x batch. Time per sentence = the call's best time x (rows per sentence / B).
// Prints one JSON line; floor_ms_per_sentence is the sum.
//
//   bench_tagger_floor [--data DIR] [--batch 64] [--reps 30]
#include <CLI/CLI.hpp>
#include <algorithm>
#include <string>
#include <vector>

#include "common/bench_util.h"
#include "common/tagger_model.h"
#include "common/task.h"
#include "flare/backend.h"
#include "flare/io/datasets.h"

namespace fb = flare::bench;
namespace fx = flare::examples;

namespace {

struct Counts {
  double tokens = 0, rare = 0, chars = 0;  // per training sentence
  int64_t tags = 0;
};

Counts count_training_data(const std::string& path) {
  const auto all = flare::io::read_tagged(path);
  const auto split = flare::io::split_heldout(all, 10);
  fx::TaggerConfig cfg;
  cfg.chars = true;
  const fx::TaggerVocabs vocabs = fx::build_tagger_vocabs(split.train, all, cfg);
  const auto train = fx::prepare_tagged(split.train, vocabs, cfg, path, /*known_tags_only=*/true);
  Counts c;
  for (const fx::TaggedExample& ex : train) {
    c.tokens += double(ex.words.size());
    for (size_t t = 0; t < ex.words.size(); ++t)
      if (ex.words[t] < 0) c.rare += 1, c.chars += double(ex.chars[t].size());
  }
  const double n = double(train.size());
  return {c.tokens / n, c.rare / n, c.chars / n, vocabs.tags.size()};
}

class Timer {
 public:
  explicit Timer(int reps) : be_(flare::backend(flare::Device::cpu())), reps_(reps) {}

  /// Seconds of one row-major C[m,n] (+)= op(A) op(B) over buffers big enough for every shape.
  double gemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k) {
    const int64_t lda = ta ? m : k, ldb = tb ? k : n;
    grow(m * k, k * n, m * n);
    return timed([&] {
      be_.gemm(flare::DType::f32, ta, tb, m, n, k, 1.0, a_.data(), lda, b_.data(), ldb, 1.0,
               c_.data(), n);
    });
  }

  /// Seconds of an LSTM cell's two element-wise kernels over `rows` rows (forward, or their
  /// gradients when `backward`).
  double cell(int64_t rows, int64_t h, bool backward) {
    const int64_t g = 4 * rows * h, s = rows * h;
    grow(g, g, g + s);
    float* a = a_.data();          // gate pre-activations [rows, 4h]
    float* c0 = b_.data();         // previous state
    float* c1 = b_.data() + s;     // new state
    float* y = b_.data() + 2 * s;  // output
    float* da = c_.data();
    float* dc = c_.data() + g;
    const flare::LstmGates L;
    return timed([&] {
      if (!backward) {
        be_.lstm(flare::LstmPart::State, flare::DType::f32, c1, a, c0, nullptr, L, rows, h);
        be_.lstm(flare::LstmPart::Output, flare::DType::f32, y, a, c1, nullptr, L, rows, h);
      } else {
        be_.lstm_grad(flare::LstmPart::Output, flare::DType::f32, da, dc, nullptr, a, c1, nullptr,
                      y, L, rows, h);
        be_.lstm_grad(flare::LstmPart::State, flare::DType::f32, da, dc, nullptr, a, c0, nullptr,
                      c1, L, rows, h);
      }
    });
  }

 private:
  // The best seconds of reps_ calls of f, after one untimed call (operands into cache).
  template <typename F>
  double timed(F&& f) {
    f();
    return fb::best_seconds(reps_, f);
  }

  void grow(int64_t na, int64_t nb, int64_t nc) {
    // Small values keep the products and the cell's exp/tanh in their ordinary range.
    if (int64_t(a_.size()) < na) a_.assign(size_t(na), 0.01f);
    if (int64_t(b_.size()) < nb) b_.assign(size_t(nb), 0.02f);
    if (int64_t(c_.size()) < nc) c_.assign(size_t(nc), 0.f);
  }

  flare::Backend& be_;
  int reps_;
  std::vector<float> a_, b_, c_;
};

struct LstmFloor {
  double forward_matrix = 0, backward_matrix = 0, cell = 0, gflop = 0;
};

// One direction of an LSTM with `in` inputs and `h` hidden units whose steps come `rows` at a
// time: `steps` steps per sentence, `first` of them a sequence's first (no U h).
LstmFloor lstm_floor(Timer& tm, int64_t rows, int64_t in, int64_t h, double steps, double first) {
  const int64_t g = 4 * h;
  const double per = 1.0 / double(rows);  // a call's share of one step of one sentence
  const double rec = steps - first;       // steps with a previous state
  LstmFloor f;
  f.forward_matrix =
      (steps * tm.gemm(false, true, rows, g, in) + rec * tm.gemm(false, true, rows, g, h)) * per;
  f.backward_matrix =
      (steps * (tm.gemm(false, false, rows, in, g) + tm.gemm(true, false, g, in, rows)) +
       rec * (tm.gemm(false, false, rows, h, g) + tm.gemm(true, false, g, h, rows))) *
      per;
  f.cell = steps * (tm.cell(rows, h, false) + tm.cell(rows, h, true)) * per;
  f.gflop = 3 * 2 * double(g) * (steps * double(in) + rec * double(h)) * 1e-9;
  return f;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "a lower bound on auto-batched bilstm-tagger-withchar's time per sentence (matrix products "
      "and LSTM cells only)"};
  fb::TaskArgs args;
  args.data = flare::io::data_dir();
  app.add_option("--data", args.data, "data directory (default: $FLARE_DATA, else ../shared/data)")
      ->capture_default_str();
  int64_t batch = 64;
  int reps = 30;
  app.add_option("--batch", batch, "sentences per auto-batched update")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--reps", reps, "timed calls per shape (the best is kept)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  return fb::run_task_main("bench_tagger_floor", app, argc, argv, [&] {
    fb::apply_task_flags(args);  // one BLAS thread, as the benchmark
    const Counts n = count_training_data(fb::task_file(args, "tags/dev.txt"));
    const fx::TaggerConfig c;  // the benchmark's sizes
    Timer tm(reps);
    const int64_t char_rows = std::max<int64_t>(1, int64_t(n.rare * double(batch) + 0.5));
    const int64_t mlp_rows = std::max<int64_t>(1, int64_t(n.tokens * double(batch) + 0.5));
    // Two directions each.
    LstmFloor chars = lstm_floor(tm, char_rows, c.char_embed, c.char_hidden, n.chars, n.rare);
    LstmFloor words = lstm_floor(tm, batch, c.embed, c.hidden, n.tokens, 1);
    // The MLP: [2 hidden] -> mlp -> tags, forward, dx and dW.
    const int64_t tags = n.tags, in = 2 * c.hidden;
    auto layer = [&](int64_t k, int64_t m) {
      return tm.gemm(false, true, mlp_rows, m, k) + tm.gemm(false, false, mlp_rows, k, m) +
             tm.gemm(true, false, m, k, mlp_rows);
    };
    const double mlp = (layer(in, c.mlp) + layer(c.mlp, tags)) * n.tokens / double(mlp_rows);
    const double mlp_gflop = 3 * 2 * n.tokens * double(in * c.mlp + c.mlp * tags) * 1e-9;
    const double ms = 1e3;
    const double matrix = 2 * (chars.forward_matrix + chars.backward_matrix + words.forward_matrix +
                               words.backward_matrix) +
                          mlp;
    const double cells = 2 * (chars.cell + words.cell);
    const double gflop = 2 * (chars.gflop + words.gflop) + mlp_gflop;
    fb::print_result(
        {{"task", "tagger_floor"},
         {"batch", batch},
         {"tokens_per_sentence", n.tokens},
         {"rare_words_per_sentence", n.rare},
         {"chars_per_sentence", n.chars},
         {"tags", n.tags},
         {"char_rows", char_rows},
         {"word_rows", batch},
         {"mlp_rows", mlp_rows},
         {"mflop_per_sentence", gflop * 1e3},
         {"char_lstm_matrix_ms", 2 * (chars.forward_matrix + chars.backward_matrix) * ms},
         {"word_lstm_matrix_ms", 2 * (words.forward_matrix + words.backward_matrix) * ms},
         {"mlp_matrix_ms", mlp * ms},
         {"matrix_ms_per_sentence", matrix * ms},
         {"matrix_gflop_per_s", gflop / matrix},
         {"cell_ms_per_sentence", cells * ms},
         {"floor_ms_per_sentence", (matrix + cells) * ms}});
    return 0;
  });
}
