#include "flare/train/trainer.h"

#include <chrono>
#include <fstream>
#include <memory>

#include <nlohmann/json.hpp>

#include "flare/error.h"
#include "flare/optim/clip.h"
#include "flare/train/checkpoint.h"
#include "train/progress.h"

namespace flare::train {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

uint64_t splitmix64(uint64_t& state) {
  uint64_t z = (state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

bool better(double a, double b, bool higher) {
  if (std::isnan(a)) return false;
  if (std::isnan(b)) return true;
  return higher ? a > b : a < b;
}

// JSON has no NaN or infinity: write null for them.
nlohmann::ordered_json number_or_null(double v) {
  return std::isfinite(v) ? nlohmann::ordered_json(v) : nlohmann::ordered_json(nullptr);
}

}  // namespace

Trainer::Trainer(std::vector<Parameter*> params, optim::Optimizer* optimizer,
                 TrainerOptions options)
    : params_(std::move(params)), optimizer_(optimizer), options_(std::move(options)) {
  const TrainerOptions& o = options_;
  if (o.epochs() < 1) throw Error("Trainer: epochs must be >= 1, got " + std::to_string(o.epochs()));
  if (o.start_epoch() < 0 || o.start_epoch() > o.epochs())
    throw Error("Trainer: start_epoch must be in [0, epochs], got " + std::to_string(o.start_epoch()));
  if (o.update_every() < 1)
    throw Error("Trainer: update_every must be >= 1, got " + std::to_string(o.update_every()));
  optim::check_option(o.clip_norm() >= 0, "Trainer", "clip_norm", ">= 0", o.clip_norm());
  optim::check_option(o.time_budget_s() >= 0, "Trainer", "time_budget_s", ">= 0", o.time_budget_s());
  if (o.restore_best() && o.best_checkpoint().empty())
    throw Error("Trainer: restore_best needs a best_checkpoint path");
}

void Trainer::set_scheduler(optim::Scheduler* scheduler, bool per_update) {
  if (scheduler && !optimizer_) throw Error("Trainer: a scheduler needs the trainer's optimizer");
  scheduler_ = scheduler;
  schedule_per_update_ = per_update;
}

std::vector<size_t> Trainer::epoch_order(size_t n, int epoch) const {
  std::vector<size_t> order(n);
  for (size_t i = 0; i < n; ++i) order[i] = i;
  if (!options_.shuffle()) return order;
  uint64_t state = options_.seed() ^ (uint64_t(epoch) * 0xD1B54A32D192ED03ull);
  for (size_t i = n; i > 1; --i) {
    // Lemire's multiply-shift maps 64 random bits to [0, i) (bias below 2^-32 for any n here).
    const size_t j = size_t((unsigned __int128)splitmix64(state) * i >> 64);
    std::swap(order[i - 1], order[j]);
  }
  return order;
}

FitResult Trainer::fit(size_t n, const StepFn& train_step, const EvalFn& evaluate) {
  if (n == 0) throw Error("Trainer::fit: no examples");
  const TrainerOptions& o = options_;
  FitResult result;
  result.best_metric = o.best_metric();

  std::ofstream log;
  if (!o.log_path().empty()) {
    log.open(o.log_path(), o.start_epoch() > 0 ? std::ios::app : std::ios::trunc);
    if (!log) throw IoError(o.log_path() + ": cannot open the training log for writing");
  }
  detail::Progress progress(o.progress_stream(), detail::Progress::is_tty(o.progress_stream()));
  const Clock::time_point fit_start = Clock::now();
  auto out_of_time = [&] { return o.time_budget_s() > 0 && seconds_since(fit_start) >= o.time_budget_s(); };

  int64_t pending = 0;  // examples whose gradients wait for an update
  // Returns what before_update_ reports (the loss of examples recorded lazily), 0 without it.
  auto update = [&]() -> double {
    if (pending == 0) return 0.0;
    const double flushed = before_update_ ? before_update_() : 0.0;
    if (!optimizer_) {
      pending = 0;
      return flushed;
    }
    if (o.clip_norm() > 0) optim::clip_grad_norm(params_, o.clip_norm());
    optimizer_->step();
    optimizer_->zero_grad();
    pending = 0;
    if (scheduler_ && schedule_per_update_) scheduler_->step();
    return flushed;
  };

  if (optimizer_) optimizer_->zero_grad();
  for (int epoch = o.start_epoch(); epoch < o.epochs(); ++epoch) {
    const Clock::time_point epoch_start = Clock::now();
    const std::vector<size_t> order = epoch_order(n, epoch);
    progress.begin_epoch(epoch + 1, o.epochs(), int64_t(n));
    EpochStats st;
    st.epoch = epoch + 1;
    double loss_sum = 0;
    for (size_t k = 0; k < n; ++k) {
      loss_sum += train_step(order[k]);
      ++st.examples;
      if (++pending == o.update_every()) loss_sum += update();
      progress.update(st.examples, loss_sum / double(st.examples));
      if (out_of_time()) {
        st.out_of_time = true;
        break;
      }
    }
    loss_sum += update();
    st.loss = loss_sum / double(st.examples);
    st.train_seconds = seconds_since(epoch_start);

    if (evaluate) st.metric = evaluate();
    if (!o.best_checkpoint().empty() && (!evaluate || better(st.metric, result.best_metric, o.higher_is_better()))) {
      io::Metadata meta{{"epoch", std::to_string(st.epoch)}};
      if (evaluate) meta["metric"] = nlohmann::json(st.metric).dump();
      save_checkpoint(o.best_checkpoint(), params_, optimizer_, meta);
    }
    if (evaluate && better(st.metric, result.best_metric, o.higher_is_better())) {
      st.best = true;
      result.best_metric = st.metric;
      result.best_epoch = st.epoch;
    }
    st.lr = optimizer_ ? optimizer_->lr() : 0.0;
    if (scheduler_ && !schedule_per_update_) scheduler_->step();
    st.seconds = seconds_since(epoch_start);
    progress.end_epoch(st.examples, st.loss, st.metric, st.best, st.train_seconds, st.seconds,
                       st.out_of_time);

    if (log.is_open()) {
      nlohmann::ordered_json j = {{"epoch", st.epoch},
                          {"examples", st.examples},
                          {"loss", number_or_null(st.loss)},
                          {"metric", number_or_null(st.metric)},
                          {"best", st.best},
                          {"lr", st.lr},
                          {"seconds", st.seconds},
                          {"train_seconds", st.train_seconds},
                          {"items_per_s", st.train_seconds > 0 ? double(st.examples) / st.train_seconds : 0.0},
                          {"elapsed_s", seconds_since(fit_start)}};
      if (st.out_of_time) j["stopped"] = "time_budget";
      log << j.dump() << '\n';
      log.flush();
      if (!log) throw IoError(o.log_path() + ": cannot write the training log");
    }
    result.epochs.push_back(st);
    if (st.out_of_time) {
      result.out_of_time = true;
      break;
    }
  }
  // The best may also come from an earlier run (best_metric given when resuming).
  if (o.restore_best() && (result.best_epoch > 0 || !std::isnan(o.best_metric())))
    load_checkpoint(o.best_checkpoint(), params_);
  return result;
}

}  // namespace flare::train
