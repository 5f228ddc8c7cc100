#pragma once
/// The training loop everyone writes, once: epochs over examples in a seeded random order, the
/// optimizer step, a progress bar, evaluation, the best checkpoint, a JSON-lines log and a time
/// budget. The model stays yours: the trainer only sees two callbacks.
///
///     flare::train::Trainer trainer(model.parameters(), &opt,
///         flare::train::TrainerOptions().epochs(10).best_checkpoint("best.safetensors")
///                                       .log_path("train.jsonl"));
///     auto result = trainer.fit(train_set, [&](const Example& ex) {
///       g.clear();
///       flare::Expr loss = model.loss(g, ex);
///       g.backward(loss);            // gradients accumulate; the trainer steps and zeroes
///       return loss.item();
///     }, [&] { return accuracy(model, dev_set); });
///
/// Per epoch e (0-based; shown and logged as e+1):
///  1. the order of the examples is epoch_order(n, e): a permutation drawn from (seed, e) alone,
///     the same on every machine, so a run resumed at epoch e sees the same order;
///  2. for each example, train_step(example) runs; with an optimizer, the trainer calls
///     clip_grad_norm (when clip_norm > 0), step() and zero_grad() after every `update_every`
///     examples and after the last one (gradients of those examples are summed), and steps a
///     per-update scheduler; without an optimizer, train_step does all of that itself;
///  3. evaluate() (when given) returns the metric; when it beats the best so far (higher or
///     lower is better by option) the best checkpoint is saved (parameters and optimizer;
///     metadata `epoch` and `metric`). Without evaluate(), the checkpoint is saved every epoch;
///  4. an epoch scheduler steps; one JSON object is appended to the log:
///     {"epoch", "examples", "loss" (mean per example), "metric" (null without evaluate),
///      "best", "lr", "seconds", "train_seconds", "items_per_s" (examples / train_seconds),
///      "elapsed_s"} and "stopped": "time_budget" on the epoch the budget ended.
/// The time budget is checked after every example: once `time_budget_s` seconds have passed,
/// the pending update is applied, the epoch is evaluated, logged and the fit ends.
///
/// Progress goes to `progress_stream` (stderr): a bar redrawn in place (items/s, running mean
/// loss, ETA) when it is a terminal, else a plain line at every tenth of an epoch (at most one
/// every 2 s, so short epochs print none), and always a summary line per epoch.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "flare/optim/optimizer.h"
#include "flare/optim/scheduler.h"
#include "flare/parameter.h"

namespace flare::train {

struct TrainerOptions {
  using File = std::FILE*;
  /// Epochs to reach: training runs epochs [start_epoch, epochs).
  FLARE_OPTION(int, epochs, 1);
  /// Epochs already done (resuming): the log is appended to instead of truncated.
  FLARE_OPTION(int, start_epoch, 0);
  /// Seed of the example order.
  FLARE_OPTION(uint64_t, seed, 42);
  /// false: every epoch visits the examples in order 0..n-1.
  FLARE_OPTION(bool, shuffle, true);
  /// Examples per optimizer update (their gradients are summed).
  FLARE_OPTION(int64_t, update_every, 1);
  /// > 0: clip the gradients' global norm to this before each update.
  FLARE_OPTION(double, clip_norm, 0.0);
  /// > 0: stop once this many seconds have passed (checked after each example).
  FLARE_OPTION(double, time_budget_s, 0.0);
  /// Where to keep the best checkpoint (empty: none).
  FLARE_OPTION(std::string, best_checkpoint, "");
  /// At the end, load the best checkpoint's parameters back (not the optimizer).
  FLARE_OPTION(bool, restore_best, false);
  /// Whether a larger metric is better (accuracy) or a smaller one (perplexity).
  FLARE_OPTION(bool, higher_is_better, true);
  /// The best metric of earlier runs (resuming); NaN: none yet.
  FLARE_OPTION(double, best_metric, std::numeric_limits<double>::quiet_NaN());
  /// JSON-lines file with one object per epoch (empty: none).
  FLARE_OPTION(std::string, log_path, "");
  /// Progress output; nullptr silences it.
  FLARE_OPTION(File, progress_stream, stderr);
};

/// What one epoch did (also the content of its log line).
struct EpochStats {
  int epoch = 0;              ///< 1-based
  int64_t examples = 0;       ///< examples seen this epoch
  double loss = 0;            ///< mean of train_step's return values
  double metric = std::numeric_limits<double>::quiet_NaN();  ///< NaN without evaluate
  bool best = false;          ///< the best checkpoint was saved after this epoch
  double lr = 0;              ///< the lr of the epoch's last update (0 without an optimizer)
  double seconds = 0;         ///< wall time of the epoch, evaluation and checkpoint included
  double train_seconds = 0;   ///< wall time of the training steps and updates alone
  bool out_of_time = false;   ///< the time budget ended this epoch
};

struct FitResult {
  std::vector<EpochStats> epochs;
  double best_metric = std::numeric_limits<double>::quiet_NaN();
  int best_epoch = 0;         ///< 1-based; 0 when no epoch was best
  bool out_of_time = false;
};

class Trainer {
 public:
  /// Forward and backward for example i (an index into the caller's data); returns its loss.
  using StepFn = std::function<double(size_t)>;
  /// Evaluates the model (e.g. accuracy on held-out data).
  using EvalFn = std::function<double()>;

  /// `params` are what the best checkpoint saves and what clipping sees; `optimizer` may be
  /// nullptr (train_step then updates the model itself). Throws flare::Error for options out
  /// of range (epochs < 1, update_every < 1, negative clip_norm or time budget).
  Trainer(std::vector<Parameter*> params, optim::Optimizer* optimizer,
          TrainerOptions options = TrainerOptions());

  /// A scheduler stepped after every epoch (per_update = false) or every optimizer update.
  void set_scheduler(optim::Scheduler* scheduler, bool per_update = false);

  /// Called before every optimizer update (after each `update_every` examples, after an epoch's
  /// last example, and when the time budget ends an epoch), whenever examples are pending. A
  /// lazy training step uses it: train_step only records example i's loss (returning 0) and
  /// this computes the recorded losses, runs one backward over their sum and returns the summed
  /// loss, which the trainer adds to the epoch's loss. nullptr: none.
  using FlushFn = std::function<double()>;
  void set_before_update(FlushFn flush) { before_update_ = std::move(flush); }

  /// Trains on examples 0..n-1. Exceptions from the callbacks propagate (after the log is
  /// flushed). Throws flare::Error when n is 0.
  FitResult fit(size_t n, const StepFn& train_step, const EvalFn& evaluate = nullptr);

  /// fit() over a container (anything with size() and operator[]): train_step receives data[i].
  template <typename Container, typename F,
            typename = decltype(std::declval<const Container&>().size())>
  FitResult fit(const Container& data, F&& train_step, const EvalFn& evaluate = nullptr) {
    return fit(
        size_t(data.size()), [&](size_t i) -> double { return train_step(data[i]); }, evaluate);
  }

  /// The example order of epoch `epoch` (0-based) for n examples: a Fisher-Yates permutation
  /// driven by SplitMix64 from (seed, epoch), or 0..n-1 without shuffling.
  std::vector<size_t> epoch_order(size_t n, int epoch) const;

  const TrainerOptions& options() const { return options_; }

 private:
  std::vector<Parameter*> params_;
  optim::Optimizer* optimizer_;
  TrainerOptions options_;
  optim::Scheduler* scheduler_ = nullptr;
  bool schedule_per_update_ = false;
  FlushFn before_update_;
};

}  // namespace flare::train
