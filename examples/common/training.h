#pragma once
// The examples' training loop: flare::train::Trainer driven by the shared flags, keeping the
// parameters of the best epoch (by the dev metric, restored at the end), saving them with
// --save, and the one-line JSON summary every example prints last.
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/batching.h"
#include "common/cli.h"
#include "flare/optim/optimizer.h"
#include "flare/parameter.h"

namespace flare::examples {

struct TrainReport {
  double dev_metric = 0;        ///< of the best epoch (the parameters left in the model)
  int best_epoch = 0;
  int epochs = 0;               ///< epochs run (the last may have been cut by --seconds)
  int64_t examples = 0;         ///< training examples processed
  double train_seconds = 0;     ///< wall time of training, evaluation excluded
  std::vector<double> losses;   ///< mean training loss per epoch
  bool out_of_time = false;
  /// With --autobatch: {"autobatch", "copy_fraction", "copy_time_share", "mean_group_size"},
  /// added to the summary line.
  nlohmann::json extra = nlohmann::json::object();
  double examples_per_s() const { return train_seconds > 0 ? double(examples) / train_seconds : 0; }
};

struct TrainHooks {
  /// Forward and backward of training example i; returns its loss (the Trainer steps).
  std::function<double(size_t)> step;
  /// Instead of step: builds example i's loss into g and leaves the rest to fit(), which runs
  /// it one example at a time (summing --update-every examples' gradients per update) or, with
  /// --autobatch N, N examples per lazy graph run as batched kernels (common/batching.h). The
  /// loss must not read a value (item(), value()): that would split the batch.
  LossFn loss;
  /// The dev metric (called in evaluation mode: set_training(false) first).
  std::function<double()> evaluate;
  /// Switches dropout on (true) or off for evaluation.
  std::function<void(bool)> set_training;
  /// Called when an epoch is the best so far, after its parameters are kept (e.g. --save).
  std::function<void()> on_best;
  bool higher_is_better = true;
  /// > 0: clip the global gradient norm before each update.
  double clip_norm = 0;
  /// Examples whose gradients are summed into one update (with `loss`: --update-every or
  /// --autobatch decide, and this is ignored).
  int64_t update_every = 1;
  /// The learning rate is multiplied by this after every epoch (1: constant).
  double lr_decay = 1.0;
  /// Metric name shown on the progress line ("dev accuracy").
  std::string metric_name = "dev";
};

/// Trains for opts.epochs epochs or opts.seconds seconds over examples 0..n-1 (seeded order,
/// one Adam/... step per `update_every` examples, or per opts.update_every / opts.autobatch
/// examples with hooks.loss), evaluating after each epoch. Throws flare::Error when
/// opts.autobatch or opts.update_every is set and hooks.loss is not.
TrainReport fit(const CommonOptions& opts, const std::vector<Parameter*>& params,
                optim::Optimizer& optimizer, size_t n, const TrainHooks& hooks);

/// The summary line: {"example", "metric", "dev_metric", "eval_metric", "examples_per_s",
/// "first_loss", "last_loss", "epochs", "best_epoch", "train_seconds", "train_examples",
/// "checkpoint"} plus `extra`. NaN or absent metrics print as null.
nlohmann::json summary(const std::string& example, const std::string& metric,
                       std::optional<double> dev_metric, std::optional<double> eval_metric,
                       const TrainReport* report, const std::string& checkpoint);

/// Prints j as one line on stdout and flushes (the last thing an example prints).
void print_summary(const nlohmann::json& j);

}  // namespace flare::examples
