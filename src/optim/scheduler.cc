#include "flare/optim/scheduler.h"

#include <cmath>
#include <string>

#include "flare/error.h"

namespace flare::optim {

void Scheduler::step() {
  ++t_;
  apply();
}

void Scheduler::set_last_step(int64_t t) {
  if (t < 0) throw Error("scheduler: set_last_step needs t >= 0, got " + std::to_string(t));
  t_ = t;
  apply();
}

void Scheduler::apply() { opt_.set_lr(lr_at(t_)); }

StepLR::StepLR(Optimizer& opt, int64_t step_size, double gamma)
    : Scheduler(opt), step_size_(step_size), gamma_(gamma) {
  if (step_size < 1) throw Error("StepLR: step_size must be >= 1, got " + std::to_string(step_size));
  check_option(gamma >= 0, "StepLR", "gamma", ">= 0", gamma);
  apply();
}

double StepLR::lr_at(int64_t t) const {
  return base_lr() * std::pow(gamma_, double(t / step_size_));
}

ExponentialLR::ExponentialLR(Optimizer& opt, double gamma) : Scheduler(opt), gamma_(gamma) {
  check_option(gamma >= 0, "ExponentialLR", "gamma", ">= 0", gamma);
  apply();
}

double ExponentialLR::lr_at(int64_t t) const { return base_lr() * std::pow(gamma_, double(t)); }

CosineWarmupLR::CosineWarmupLR(Optimizer& opt, int64_t warmup_steps, int64_t total_steps,
                               double min_lr)
    : Scheduler(opt), warmup_(warmup_steps), total_(total_steps), min_lr_(min_lr) {
  if (warmup_steps < 0 || warmup_steps >= total_steps)
    throw Error("CosineWarmupLR: needs 0 <= warmup_steps < total_steps, got warmup_steps " +
                std::to_string(warmup_steps) + " and total_steps " + std::to_string(total_steps));
  check_option(min_lr >= 0, "CosineWarmupLR", "min_lr", ">= 0", min_lr);
  apply();
}

double CosineWarmupLR::lr_at(int64_t t) const {
  if (t < warmup_) return base_lr() * double(t + 1) / double(warmup_);
  if (t >= total_) return min_lr_;
  const double kPi = 3.14159265358979323846;
  const double progress = double(t - warmup_) / double(total_ - warmup_);
  return min_lr_ + (base_lr() - min_lr_) * (1 + std::cos(kPi * progress)) / 2;
}

}  // namespace flare::optim
