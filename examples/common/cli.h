#pragma once
// The flags every example shares, the data-path rules, and main()'s error handling.
//
//   --data DIR     data directory (default $FLARE_DATA, else ../shared/data)
//   --epochs N     passes over the training data (0: evaluate only; the default with --load)
//   --seconds S    training time budget (0: none); checked after every example
//   --seed N       seeds initialisation, dropout and the example order
//   --save FILE    write the best model (by the dev metric) there
//   --load FILE    load that checkpoint (its vocabularies and sizes); --epochs N trains on
//   --eval FILE    with --load: evaluate on FILE (the task's format), train nothing
//   --limit N      use at most N training examples (0: all)
//   --dev-limit N  evaluate on at most N dev examples (0: all)
//   --log FILE     the Trainer's JSON-lines log, one object per epoch
//   --quiet        no progress output
//   --autobatch N  (sentiment, tagger, treelstm) N examples per update, auto-batched
//   --update-every N  (same) N examples per update, one at a time (autobatch's reference)
//   --device D     (same) train and evaluate on cpu or cuda[:N] (the model moved with Model::to)
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "flare/device.h"

namespace flare::examples {

struct CommonOptions {
  std::string data;
  int epochs = 10;
  double seconds = 0;
  uint64_t seed = 1;
  std::string save, load, eval;
  int64_t limit = 0;
  int64_t dev_limit = 0;
  std::string log;
  bool quiet = false;
  int threads = 1;
  /// > 0: this many examples per update, their losses built in one lazy graph and run as
  /// batched kernels by flare::Autobatch (common/batching.h).
  int64_t autobatch = 0;
  /// Examples per update when run one at a time (gradients summed); 1: every example.
  int64_t update_every = 1;
  /// Where the model trains: "cpu" or "cuda[:N]" (checked by apply_common_flags).
  std::string device = "cpu";

  Device dev() const { return Device::parse(device); }

  /// True when the run only evaluates a loaded model (--eval FILE, or --epochs 0).
  bool evaluate_only() const { return !eval.empty() || epochs == 0; }
};

struct FlagSet {
  /// Examples without data files (logreg) leave --data out.
  bool data = true;
  /// Examples without a dev set leave --dev-limit out.
  bool dev_limit = true;
  /// Examples whose training goes through TrainHooks::loss add --autobatch, --update-every and
  /// --device (fit() builds their training graphs, on that device; the program moves its model).
  bool batching = false;
};

/// Registers the shared flags on `app`; `o` holds their defaults (set o.epochs first).
void add_common_flags(CLI::App& app, CommonOptions& o, FlagSet which = {});

/// Checks the combination of flags after parsing (e.g. --eval needs --load) and applies
/// --threads and --seed; throws flare::Error naming the flags. With --load and no --epochs on
/// the command line, sets o.epochs to 0: a loaded model is evaluated (or sampled), not trained,
/// unless asked to.
void apply_common_flags(const CLI::App& app, CommonOptions& o);
/// The same checks without the --load rule for --epochs (kept for programs written before it).
void apply_common_flags(const CommonOptions& o);

/// `dir/relative` when that file exists; else throws IoError naming the path and saying how to
/// point the example at the data (--data or $FLARE_DATA).
std::string data_file(const std::string& dir, const std::string& relative);

/// The first `limit` items (all of them when limit is 0).
template <typename T>
std::vector<T> take(std::vector<T> v, int64_t limit) {
  if (limit > 0 && int64_t(v.size()) > limit) v.resize(size_t(limit));
  return v;
}

/// Parses the flags, then runs body(); prints `program: error: <what>` on stderr and returns 1
/// for a flare::Error or other exception, CLI11's usual code for a flag error.
int run_main(const std::string& program, CLI::App& app, int argc, char** argv,
             const std::function<int()>& body);

}  // namespace flare::examples
