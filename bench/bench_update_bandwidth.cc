// How close a dense optimizer update of an embedding table comes to this machine's memory
// bandwidth. Measures, on arrays of the table's size: memset, copy and a STREAM-style triad
// (the machine's bandwidth), then flare's fused Adam update (step_and_zero_grad: reads w, g, m,
// v and writes all four, 32 bytes per element) and step() + zero_grad() (28 bytes, then a
// separate zeroing pass), as bytes moved per second, and the update of a table whose gradient
// came through lookups of 20 rows (row gradients: w, m and v streamed, 24 bytes per element);
// then the same update with the untouched rows' steps deferred (adam_deferred_ms: the mean
// step of 256, the final settle included), which is bound by arithmetic instead of bandwidth.
// Prints one JSON line.
//
//   bench_update_bandwidth [--rows 18281] [--dim 128] [--reps 20] [--plain-first]
//
// The default table is treenn's (the SST training vocabulary x 128): its four arrays (37 MB)
// only just exceed a 32 MB L3, so the figures mix cache and memory; --rows 200000 measures
// memory alone.
#include <CLI/CLI.hpp>

#include <algorithm>
#include <cstring>
#include <vector>

#include "common/bench_util.h"
#include "flare/flare.h"
#include "flare/optim.h"

namespace {

using flare::bench::best_seconds;

// Best seconds of `reps` runs of f, each after an untimed prepare().
template <typename P, typename F>
double best_of_prepared(int reps, P&& prepare, F&& f) {
  double best = 1e30;
  for (int r = 0; r < reps; ++r) {
    prepare();
    flare::bench::Stopwatch w;
    f();
    best = std::min(best, w.seconds());
  }
  return best;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"memory bandwidth vs flare's fused optimizer update on an embedding-sized table"};
  int64_t rows = 18281, dim = 128;
  int reps = 20;
  app.add_option("--rows", rows, "table rows")->capture_default_str();
  app.add_option("--dim", dim, "table columns")->capture_default_str();
  app.add_option("--reps", reps, "repetitions (the best is kept)")->capture_default_str();
  bool plain_first = false;
  app.add_flag("--plain-first", plain_first, "time step() + zero_grad() before the fused update");
  CLI11_PARSE(app, argc, argv);

  const int64_t n = rows * dim;
  const double mb = double(n) * 4 / 1e6;  // one float array, MB
  std::vector<float> a(size_t(n), 1.f), b(size_t(n), 2.f), c(size_t(n), 3.f);
  float* pa = a.data();
  const float* pb = b.data();
  const float* pc = c.data();
  const double t_memset = best_seconds(reps, [&] { std::memset(pa, 0, size_t(n) * 4); });
  const double t_copy = best_seconds(reps, [&] { std::memcpy(pa, pb, size_t(n) * 4); });
  const double t_triad = best_seconds(reps, [&] {
    for (int64_t i = 0; i < n; ++i) pa[i] = pb[i] + 0.5f * pc[i];
  });

  flare::Parameter table("table", flare::Tensor::full(flare::Shape{rows, dim}, 0.01));
  flare::optim::Adam fused({&table}), plain({&table});
  auto fill_grad = [&] { std::fill_n(static_cast<float*>(table.grad().data()), n, 1e-3f); };
  fill_grad();
  fused.step_and_zero_grad();  // state allocated and touched
  plain.step();
  plain.zero_grad();
  // Each variant gets its own block of repetitions (the other's arrays are cold by then), and
  // the order of the blocks is --plain-first, since caches and the other processes on a shared
  // machine favour whichever runs in a quieter moment.
  auto time_fused = [&] {
    return best_of_prepared(reps, fill_grad, [&] { fused.step_and_zero_grad(); });
  };
  // The same dense update of a table whose gradient came through lookups of a sentence's worth
  // of rows (Parameter::row_gradients): the kernel streams w, m and v and reads the gradient of
  // the touched rows only. Timed per step with the untouched rows' steps run at once (deferral
  // off), and with them deferred (the default) over kDeferredSteps steps and a settle at the
  // end, which then run many steps per row while it is in cache.
  std::vector<int32_t> touched;
  for (int64_t r = 0; r < 20 && r < rows; ++r) touched.push_back(int32_t(r * (rows / 20)));
  auto mark_rows = [&](flare::Parameter& t) {
    float* g = static_cast<float*>(t.grad().data());
    for (int32_t r : touched) std::fill_n(g + int64_t(r) * dim, dim, 1e-3f);
    t.mark_rows(touched.data(), int64_t(touched.size()));
  };
  flare::Parameter rows_table("rows_table", flare::Tensor::full(flare::Shape{rows, dim}, 0.01));
  rows_table.set_row_gradients(true);
  flare::optim::Adam rows_adam({&rows_table}, flare::optim::AdamOptions().defer_untouched_rows(false));
  mark_rows(rows_table);
  rows_adam.step_and_zero_grad();  // state allocated and touched
  const double t_rows =
      best_of_prepared(reps, [&] { mark_rows(rows_table); }, [&] { rows_adam.step_and_zero_grad(); });
  flare::Parameter deferred_table("deferred_table", flare::Tensor::full(flare::Shape{rows, dim}, 0.01));
  deferred_table.set_row_gradients(true);
  flare::optim::Adam deferred_adam({&deferred_table});
  constexpr int kDeferredSteps = 256;
  const double t_deferred = best_seconds(std::max(1, reps / 5), [&] {
                              for (int s = 0; s < kDeferredSteps; ++s) {
                                mark_rows(deferred_table);
                                deferred_adam.step_and_zero_grad();
                              }
                              deferred_table.settle();
                            }) /
                            kDeferredSteps;
  auto time_plain = [&] {
    return best_of_prepared(reps, fill_grad, [&] {
      plain.step();
      plain.zero_grad();
    });
  };
  double t_fused = 0, t_plain = 0;
  if (plain_first) {
    t_plain = time_plain();
    t_fused = time_fused();
  } else {
    t_fused = time_fused();
    t_plain = time_plain();
  }
  // Bytes each moves (reads + writes of whole arrays), as the code asks. A store to a line not
  // in cache reads it first on x86 (write-allocate), so copy and triad really move one array
  // more than they ask; the *_traffic figures count it. Adam writes only lines it has read, so
  // its asked and real traffic agree: compare adam_fused_gb_per_s with triad_traffic_gb_per_s.
  const double gbps = 1e-3;
  flare::bench::print_result({{"task", "update_bandwidth"},
                              {"rows", rows},
                              {"dim", dim},
                              {"array_mb", mb},
                              {"memset_gb_per_s", mb / t_memset * gbps},
                              {"copy_gb_per_s", 2 * mb / t_copy * gbps},
                              {"triad_gb_per_s", 3 * mb / t_triad * gbps},
                              {"copy_traffic_gb_per_s", 3 * mb / t_copy * gbps},
                              {"triad_traffic_gb_per_s", 4 * mb / t_triad * gbps},
                              {"adam_fused_ms", t_fused * 1e3},
                              {"adam_fused_gb_per_s", 8 * mb / t_fused * gbps},
                              {"adam_row_gradients_ms", t_rows * 1e3},
                              {"adam_row_gradients_gb_per_s", 6 * mb / t_rows * gbps},
                              {"adam_deferred_ms", t_deferred * 1e3},
                              {"adam_step_then_zero_ms", t_plain * 1e3},
                              {"adam_step_then_zero_gb_per_s", 8 * mb / t_plain * gbps}});
  return 0;
}
