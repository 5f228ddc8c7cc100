#include "common/task.h"

#include <algorithm>
#include <filesystem>
#include <iostream>
#include <numeric>
#include <random>

#include "common/bench_util.h"
#include "flare/cuda_stats.h"
#include "flare/io/datasets.h"

// OpenBLAS sizes its thread pool from the environment when it loads; bench/run sets it to one,
// and a program run by hand should measure the same thing. Weak: another BLAS lacks the call.
extern "C" void openblas_set_num_threads(int) __attribute__((weak));

namespace flare::bench {

void add_task_flags(CLI::App& app, TaskArgs& a) {
  a.data = io::data_dir();
  app.add_option("--data", a.data, "data directory (default: $FLARE_DATA, else ../shared/data)")
      ->capture_default_str();
  app.add_option("--seconds", a.seconds, "training time budget in seconds")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  app.add_option("--seed", a.seed, "random seed (initialisation, example order)")->capture_default_str();
  app.add_option("--sparse", a.sparse, "1: sparse embedding rows with lazy Adam; 0: one dense Adam")
      ->capture_default_str()
      ->check(CLI::IsMember({0, 1}));
  app.add_option("--mode", a.mode, "execution mode (eager: one example per update)")->capture_default_str();
  app.add_option("--batch", a.batch, "examples per update in batching modes (eager: 1)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--limit", a.limit, "train on at most N examples (0: all)")->check(CLI::NonNegativeNumber);
  app.add_option("--dev-limit", a.dev_limit, "evaluate on at most N dev examples (0: all)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--updates", a.max_updates, "stop after N updates even within --seconds (0: no limit)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--device", a.device, "device to train on: cpu or cuda[:N]")->capture_default_str();
}

void apply_task_flags(const TaskArgs& a) {
  if (a.mode != "eager" && a.mode != "autobatch")
    throw Error("--mode " + a.mode + " is not supported by this program (eager or autobatch)");
  if (a.mode == "eager" && a.batch != 1)
    throw Error("--batch " + std::to_string(a.batch) + ": eager mode trains one example per update");
  try {
    // Starts the device: its set-up is not timed, and its failure says why (CUDA's reason).
    const Device d = a.dev();
    if (!d.is_cpu()) backend(d);
  } catch (const Error& e) {
    throw Error(std::string("--device ") + a.device + ": " + e.what());
  }
  if (openblas_set_num_threads) openblas_set_num_threads(1);
  manual_seed(a.seed);
}

std::string task_file(const TaskArgs& a, const std::string& relative) {
  const std::string path = a.data + "/" + relative;
  if (!std::filesystem::exists(path))
    throw IoError(path + ": not found (point --data or $FLARE_DATA at the data directory)");
  return path;
}

Throughput train_for(const TaskArgs& a, size_t n, optim::Optimizer& opt, const LossFn& loss) {
  if (n == 0) throw Error("train_for: no training examples");
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), size_t(0));
  std::mt19937_64 rng(a.seed);
  const Device dev = a.dev();
  Graph g(dev);
  Throughput tp;
  // Items per update: one in eager mode. A batching mode builds several items' losses into one
  // graph and sums them here; nothing else in the loop changes. Autobatch: the graph is lazy
  // and its executor runs the batch's nodes as batched kernels at backward().
  const bool autobatch = a.mode == "autobatch";
  const size_t group = autobatch ? size_t(a.batch) : 1;
  Autobatch ab;
  if (autobatch) g.set_executor(&ab);
  std::vector<Expr> losses;
  opt.zero_grad();
  const cuda::QueueStats q0 = !dev.is_cpu() ? cuda::queue_stats() : cuda::QueueStats{};
  Stopwatch clock;
  for (bool done = false; !done;) {
    std::shuffle(order.begin(), order.end(), rng);
    for (size_t k = 0; k < n; k += group) {
      g.clear();
      losses.clear();
      for (size_t j = k; j < std::min(n, k + group); ++j) {
        ItemLoss l = loss(g, order[j]);
        losses.push_back(l.loss);
        tp.examples += l.examples;
        tp.words += l.words;
      }
      g.backward(losses.size() == 1 ? losses[0] : sum(losses));
      opt.step_and_zero_grad();
      ++tp.updates;
      if (clock.seconds() >= a.seconds || (a.max_updates > 0 && tp.updates >= a.max_updates)) {
        tp.epochs += double(std::min(n, k + group)) / double(n);
        done = true;
        break;
      }
    }
    if (!done) tp.epochs += 1.0;
  }
  backend(dev).synchronize();  // a GPU runs behind the host: count the work queued too
  tp.seconds = clock.seconds();
  if (autobatch) {
    const AutobatchStats& st = ab.stats();
    // Where an auto-batched step's time goes, without a profiler: the executor's share of the
    // training time, planning's share of the executor's, and the nodes it ran per example.
    tp.extra = {{"batch", a.batch},
                {"copy_fraction", st.copy_fraction()},
                {"copy_time_share", st.copy_time_share()},
                {"mean_group_size", st.mean_group_size()},
                {"schedule_time_share", st.total_seconds > 0 ? st.schedule_seconds / st.total_seconds : 0.0},
                {"executor_time_share", tp.seconds > 0 ? st.total_seconds / tp.seconds : 0.0},
                {"nodes_per_example", tp.examples > 0 ? double(st.nodes) / double(tp.examples) : 0.0}};
  }
  if (!dev.is_cpu()) {
    // Each launch costs microseconds of host time whatever its size: per update, the count
    // that bounds a GPU run's speed from the host side.
    const cuda::QueueStats q = cuda::queue_stats();
    const double u = double(std::max<int64_t>(tp.updates, 1));
    tp.extra["gpu_kernels_per_update"] = double(q.kernels - q0.kernels) / u;
    tp.extra["gpu_copies_per_update"] = double(q.copies - q0.copies) / u;
    tp.extra["gpu_blas_per_update"] = double(q.blas - q0.blas) / u;
    tp.extra["gpu_waits_per_update"] = double(q.waits - q0.waits) / u;
  }
  return tp;
}

void print_task_result(const std::string& task, const TaskArgs& a, const Throughput& tp, double dev_metric,
                       const std::string& dev_metric_name, int64_t dev_examples, bool has_words,
                       const nlohmann::json& extra) {
  nlohmann::json j = {{"task", task},
                      {"impl", "flare"},
                      {"mode", a.mode},
                      {"device", a.dev().str()},
                      {"sparse", a.sparse},
                      {"examples_per_s", tp.examples_per_s()},
                      {"words_per_s", has_words ? nlohmann::json(tp.words_per_s()) : nlohmann::json(nullptr)},
                      {"dev_metric", dev_metric},
                      {"peak_rss_mb", peak_rss_mb()},
                      {"dev_metric_name", dev_metric_name},
                      {"dev_examples", dev_examples},
                      {"seed", a.seed},
                      {"train_seconds", tp.seconds},
                      {"train_examples", tp.examples},
                      {"updates", tp.updates},
                      {"epochs", tp.epochs}};
  for (const auto& [k, v] : tp.extra.items()) j[k] = v;
  for (const auto& [k, v] : extra.items()) j[k] = v;
  print_result(j);
}

int run_task_main(const std::string& program, CLI::App& app, int argc, char** argv,
                  const std::function<int()>& body) {
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  try {
    return body();
  } catch (const std::exception& e) {
    std::cerr << program << ": error: " << e.what() << "\n";
    return 1;
  }
}

}  // namespace flare::bench
