#include "common/cli.h"

#include <exception>
#include <filesystem>
#include <iostream>

#include "flare/backend.h"
#include "flare/error.h"
#include "flare/graph.h"
#include "flare/io/datasets.h"

// OpenBLAS sizes its thread pool from the environment when it loads; the examples promise one
// thread unless told otherwise, so they set it here. Weak: another BLAS simply lacks the call.
extern "C" void openblas_set_num_threads(int) __attribute__((weak));

namespace flare::examples {

void add_common_flags(CLI::App& app, CommonOptions& o, FlagSet which) {
  if (which.data) {
    o.data = io::data_dir();
    app.add_option("--data", o.data, "data directory (default: $FLARE_DATA, else ../shared/data)")
        ->capture_default_str();
  }
  app.add_option("--epochs", o.epochs, "passes over the training data; 0 evaluates only (the default with --load)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  app.add_option("--seconds", o.seconds, "training time budget in seconds (0: none)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--seed", o.seed, "random seed (initialisation, dropout, example order)")
      ->capture_default_str();
  app.add_option("--save", o.save, "save the best model (by the dev metric) to this file");
  app.add_option("--load", o.load, "load this checkpoint (vocabularies and sizes included); train on with --epochs N");
  app.add_option("--eval", o.eval, "with --load: evaluate on this file in the task's format, train nothing");
  app.add_option("--limit", o.limit, "use at most N training examples (0: all)")
      ->check(CLI::NonNegativeNumber);
  if (which.dev_limit)
    app.add_option("--dev-limit", o.dev_limit, "evaluate on at most N dev examples (0: all)")
        ->check(CLI::NonNegativeNumber);
  app.add_option("--log", o.log, "write one JSON line per epoch to this file");
  app.add_flag("--quiet", o.quiet, "no progress output");
  app.add_option("--threads", o.threads, "BLAS threads")->capture_default_str()->check(CLI::PositiveNumber);
  if (which.batching) {
    app.add_option("--autobatch", o.autobatch,
                   "N > 0: N examples per update, built one at a time and run as batched kernels (auto-batching)")
        ->check(CLI::NonNegativeNumber);
    app.add_option("--update-every", o.update_every,
                   "N examples per update, each computed on its own (gradients summed; --autobatch's reference)")
        ->capture_default_str()
        ->check(CLI::PositiveNumber);
    app.add_option("--device", o.device, "train and evaluate on this device: cpu or cuda[:N]")->capture_default_str();
  }
}

void apply_common_flags(const CommonOptions& o) {
  if (!o.eval.empty() && o.load.empty())
    throw Error("--eval " + o.eval + " needs a trained model: give it with --load FILE");
  if (o.autobatch > 0 && o.update_every != 1)
    throw Error("--autobatch " + std::to_string(o.autobatch) + " already sets the examples per update: drop --update-every " +
                std::to_string(o.update_every));
  try {
    // Starts the device now, so that a missing GPU is reported before any data is read.
    const Device d = o.dev();
    if (!d.is_cpu()) backend(d);
  } catch (const Error& e) {
    throw Error("--device " + o.device + ": " + e.what());
  }
  if (openblas_set_num_threads) openblas_set_num_threads(o.threads);
  manual_seed(o.seed);
}

void apply_common_flags(const CLI::App& app, CommonOptions& o) {
  if (!o.load.empty() && app.count("--epochs") == 0) o.epochs = 0;
  apply_common_flags(o);
}

std::string data_file(const std::string& dir, const std::string& relative) {
  const std::string path = dir + "/" + relative;
  if (!std::filesystem::exists(path))
    throw IoError(path + ": not found (point --data or $FLARE_DATA at the data directory)");
  return path;
}

int run_main(const std::string& program, CLI::App& app, int argc, char** argv,
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

}  // namespace flare::examples
