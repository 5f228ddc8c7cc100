#pragma once
// What the data-driven benchmarks (treenn, bilstm-tagger, rnnlm-batch, sentiment) share with
// each other and with their PyTorch twins (bench/README.md): the flags, the training loop
// (epochs over the items in a fresh seeded order, one update per item, the clock checked after
// every update), the optimizer (Adam lr 1e-3; lazy on sparse tables) and the result line.
//
// A task supplies a per-item loss builder; the loop owns the graph, the backward pass and the
// optimizer step, so a batching mode only has to change how many items go into one update.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "flare/autobatch.h"
#include "flare/flare.h"
#include "flare/optim/optimizer.h"

namespace flare::bench {

struct TaskArgs {
  std::string data;        ///< data directory (default flare::io::data_dir())
  double seconds = 10.0;   ///< training budget
  uint64_t seed = 1;       ///< initialisation and example order
  int sparse = 0;          ///< 1: sparse embedding rows with lazy Adam
  std::string mode = "eager";
  int64_t batch = 1;       ///< items per update in batching modes (eager: 1)
  int64_t limit = 0;       ///< use at most this many training items (0: all)
  int64_t dev_limit = 0;   ///< evaluate on at most this many dev examples (0: all)
  int64_t max_updates = 0; ///< stop after this many updates even within the budget (0: none)
  std::string device = "cpu";  ///< where the model trains: cpu or cuda[:N]

  /// The parsed --device.
  Device dev() const { return Device::parse(device); }
};

/// Registers the shared flags on `app` (--data --seconds --seed --sparse --mode --batch
/// --limit --dev-limit --updates --device); `a` holds the defaults. A program moves its model
/// to a.dev() before making the optimizer; train_for builds its graphs there.
void add_task_flags(CLI::App& app, TaskArgs& a);

/// After parsing: checks the flags (mode eager with batch 1, or autobatch: --batch items per
/// update in one lazy, auto-batched graph) and that the device can be used (CUDA's reason when
/// not), pins BLAS to one thread and seeds flare's generator. Throws flare::Error naming the flag.
void apply_task_flags(const TaskArgs& a);

/// `dir/relative` when it exists; else throws IoError naming the path.
std::string task_file(const TaskArgs& a, const std::string& relative);

/// What the training loop did.
struct Throughput {
  int64_t examples = 0;  ///< what examples_per_s counts (sentences, trees)
  int64_t words = 0;
  int64_t updates = 0;
  double seconds = 0;
  double epochs = 0;
  nlohmann::json extra = nlohmann::json::object();  ///< mode-specific keys for the result line
  double examples_per_s() const { return seconds > 0 ? double(examples) / seconds : 0; }
  double words_per_s() const { return seconds > 0 ? double(words) / seconds : 0; }
};

/// One training item's share of an update: its loss (built into `g`) and what it counts for.
struct ItemLoss {
  Expr loss;
  int64_t examples = 1;
  int64_t words = 0;
};
using LossFn = std::function<ItemLoss(Graph& g, size_t item)>;

/// Trains over items 0..n-1: each epoch in a fresh order drawn from a.seed; each update clears
/// the graph, builds the summed loss of its items (one in eager mode), runs backward, steps the
/// optimizer and zeroes the gradients. Stops after the first update that ends past a.seconds
/// (or after a.max_updates). On a GPU the clock is read after the device's queue has drained,
/// so the time covers the work launched. Throws flare::Error when n is 0.
Throughput train_for(const TaskArgs& a, size_t n, optim::Optimizer& opt, const LossFn& loss);

/// Prints the result line: task, impl "flare", mode, device, sparse, examples_per_s, words_per_s (null
/// when !has_words), dev_metric, peak_rss_mb, then dev_metric_name, dev_examples, seed,
/// train_seconds, train_examples, updates, epochs, and `extra`.
void print_task_result(const std::string& task, const TaskArgs& a, const Throughput& tp, double dev_metric,
                       const std::string& dev_metric_name, int64_t dev_examples, bool has_words,
                       const nlohmann::json& extra = nlohmann::json::object());

/// Parses the flags and runs body(); prints `program: error: <what>` and returns 1 on an
/// exception, CLI11's code for a flag error.
int run_task_main(const std::string& program, CLI::App& app, int argc, char** argv,
                  const std::function<int()>& body);

}  // namespace flare::bench
