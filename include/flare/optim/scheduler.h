#pragma once
/// Learning-rate schedules. A scheduler keeps a count t (steps or epochs: the caller decides
/// how often to call step()) and sets the optimizer's lr to lr_at(t), a pure function of t and
/// the base lr (the optimizer's lr when the scheduler was made):
///
///     flare::optim::Sgd opt(params, flare::optim::SgdOptions(0.1));
///     flare::optim::StepLR sched(opt, /*step_size=*/10, /*gamma=*/0.5);  // lr = 0.1 now
///     for (int epoch = 0; epoch < 30; ++epoch) { train_epoch(); sched.step(); }
///
/// Constructing a scheduler sets lr_at(0) at once. To resume, build the optimizer and the
/// scheduler as before and call set_last_step(t) with the saved count.
#include <cstdint>

#include "flare/optim/optimizer.h"

namespace flare::optim {

class Scheduler {
 public:
  virtual ~Scheduler() = default;

  /// t += 1, then sets the optimizer's lr to lr_at(t).
  void step();
  /// The count t: how many times step() was called (or what set_last_step set).
  int64_t last_step() const { return t_; }
  /// Jumps to count t and sets the lr accordingly; throws flare::Error for t < 0.
  void set_last_step(int64_t t);
  double base_lr() const { return base_lr_; }
  /// The learning rate at count t (t >= 0).
  virtual double lr_at(int64_t t) const = 0;

 protected:
  explicit Scheduler(Optimizer& opt) : opt_(opt), base_lr_(opt.lr()) {}
  /// Sets the optimizer's lr to lr_at(last_step()); derived constructors call it last.
  void apply();

 private:
  Optimizer& opt_;
  double base_lr_;
  int64_t t_ = 0;
};

/// lr = base * gamma^floor(t / step_size).
class StepLR : public Scheduler {
 public:
  /// Throws flare::Error for step_size < 1 or gamma < 0.
  StepLR(Optimizer& opt, int64_t step_size, double gamma = 0.1);
  double lr_at(int64_t t) const override;

 private:
  int64_t step_size_;
  double gamma_;
};

/// lr = base * gamma^t.
class ExponentialLR : public Scheduler {
 public:
  /// Throws flare::Error for gamma < 0.
  ExponentialLR(Optimizer& opt, double gamma);
  double lr_at(int64_t t) const override;

 private:
  double gamma_;
};

/// Linear warm-up, then a half cosine down to min_lr (W = warmup_steps, T = total_steps):
///
///     t <  W:       lr = base * (t + 1) / W
///     W <= t < T:   lr = min_lr + (base - min_lr) * (1 + cos(pi * (t - W) / (T - W))) / 2
///     t >= T:       lr = min_lr
///
/// so the lr reaches base at t = W - 1 and t = W, and min_lr at t = T. W = 0 is plain cosine
/// annealing (PyTorch's CosineAnnealingLR with T_max = T, eta_min = min_lr).
class CosineWarmupLR : public Scheduler {
 public:
  /// Throws flare::Error unless 0 <= warmup_steps < total_steps and 0 <= min_lr.
  CosineWarmupLR(Optimizer& opt, int64_t warmup_steps, int64_t total_steps, double min_lr = 0.0);
  double lr_at(int64_t t) const override;

 private:
  int64_t warmup_, total_;
  double min_lr_;
};

}  // namespace flare::optim
