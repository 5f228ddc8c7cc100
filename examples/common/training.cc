#include "common/training.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <memory>

#include "common/model_file.h"
#include "flare/error.h"
#include "flare/optim/scheduler.h"
#include "flare/train/trainer.h"

namespace flare::examples {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

nlohmann::json number_or_null(std::optional<double> v) {
  return v && std::isfinite(*v) ? nlohmann::json(*v) : nlohmann::json(nullptr);
}

}  // namespace

TrainReport fit(const CommonOptions& opts, const std::vector<Parameter*>& params,
                optim::Optimizer& optimizer, size_t n, const TrainHooks& hooks) {
  if (n == 0) throw Error("no training examples (check --limit and the data files)");
  if (!hooks.loss && (opts.autobatch > 0 || opts.update_every != 1))
    throw Error("--autobatch and --update-every need a training loop given by TrainHooks::loss");
  if (hooks.loss && hooks.step) throw Error("fit: give TrainHooks::step or TrainHooks::loss, not both");
  std::unique_ptr<GradientAccumulator> accumulate;
  std::function<double(size_t)> step = hooks.step;
  int64_t update_every = hooks.update_every;
  if (hooks.loss) {
    accumulate = std::make_unique<GradientAccumulator>(hooks.loss, opts.autobatch, opts.dev());
    step = [&](size_t i) { return accumulate->add(i); };
    update_every = opts.autobatch > 0 ? opts.autobatch : opts.update_every;
  }
  train::Trainer trainer(params, &optimizer,
                         train::TrainerOptions()
                             .epochs(opts.epochs)
                             .seed(opts.seed)
                             .time_budget_s(opts.seconds)
                             .clip_norm(hooks.clip_norm)
                             .update_every(update_every)
                             .higher_is_better(hooks.higher_is_better)
                             .log_path(opts.log)
                             .progress_stream(opts.quiet ? nullptr : stderr));
  // Autobatching: the trainer's step only records losses; they are computed, batched, just
  // before each update.
  if (accumulate && accumulate->autobatching()) trainer.set_before_update([&] { return accumulate->flush(); });
  std::unique_ptr<optim::ExponentialLR> schedule;
  if (hooks.lr_decay != 1.0) {
    schedule = std::make_unique<optim::ExponentialLR>(optimizer, hooks.lr_decay);
    trainer.set_scheduler(schedule.get());
  }
  Snapshot best;
  double best_metric = std::nan("");
  double eval_seconds = 0;
  int epoch = 0;
  TrainReport report;
  auto evaluate = [&]() {
    const Clock::time_point start = Clock::now();
    ++epoch;
    if (hooks.set_training) hooks.set_training(false);
    const double m = hooks.evaluate();
    if (hooks.set_training) hooks.set_training(true);
    const bool better = std::isnan(best_metric) || (hooks.higher_is_better ? m > best_metric : m < best_metric);
    if (better && std::isfinite(m)) {
      best_metric = m;
      report.best_epoch = epoch;
      best.take(params);
      if (hooks.on_best) hooks.on_best();
    }
    eval_seconds += seconds_since(start);
    return m;
  };
  if (hooks.set_training) hooks.set_training(true);
  const Clock::time_point start = Clock::now();
  train::FitResult r = trainer.fit(n, step, evaluate);
  const double total = seconds_since(start);
  if (hooks.set_training) hooks.set_training(false);
  best.restore(params);

  report.dev_metric = best_metric;
  report.epochs = int(r.epochs.size());
  for (const train::EpochStats& e : r.epochs) {
    report.examples += e.examples;
    report.losses.push_back(e.loss);
  }
  report.train_seconds = total - eval_seconds;
  report.out_of_time = r.out_of_time;
  if (const AutobatchStats* st = accumulate ? accumulate->stats() : nullptr)
    report.extra = {{"autobatch", opts.autobatch},
                    {"copy_fraction", st->copy_fraction()},
                    {"copy_time_share", st->copy_time_share()},
                    {"mean_group_size", st->mean_group_size()}};
  return report;
}

nlohmann::json summary(const std::string& example, const std::string& metric,
                       std::optional<double> dev_metric, std::optional<double> eval_metric,
                       const TrainReport* report, const std::string& checkpoint) {
  nlohmann::json j = {{"example", example},
                      {"metric", metric},
                      {"dev_metric", number_or_null(dev_metric)},
                      {"eval_metric", number_or_null(eval_metric)}};
  if (report && !report->losses.empty()) {
    j["examples_per_s"] = report->examples_per_s();
    j["first_loss"] = number_or_null(report->losses.front());
    j["last_loss"] = number_or_null(report->losses.back());
    j["epochs"] = report->epochs;
    j["best_epoch"] = report->best_epoch;
    j["train_seconds"] = report->train_seconds;
    j["train_examples"] = report->examples;
    j.update(report->extra);
  } else {
    j["examples_per_s"] = nullptr;
    j["first_loss"] = nullptr;
    j["last_loss"] = nullptr;
    j["epochs"] = 0;
  }
  j["checkpoint"] = checkpoint.empty() ? nlohmann::json(nullptr) : nlohmann::json(checkpoint);
  return j;
}

void print_summary(const nlohmann::json& j) {
  std::cout << j.dump() << std::endl;
}

}  // namespace flare::examples
