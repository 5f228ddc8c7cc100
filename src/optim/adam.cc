#include "flare/optim/adam.h"

#include <cmath>

#include "optim/deferred_rows.h"

namespace flare::optim {
namespace {

AdamOptions as_adam(const AdamWOptions& o) {
  return AdamOptions(o.lr())
      .betas(o.beta1(), o.beta2())
      .eps(o.eps())
      .weight_decay(o.weight_decay())
      .defer_untouched_rows(o.defer_untouched_rows());
}

}  // namespace

Adam::Adam(std::vector<Parameter*> params, AdamOptions options)
    : Adam(std::move(params), options, false) {}

Adam::Adam(std::vector<Parameter*> params, AdamOptions options, bool decoupled)
    : Optimizer(std::move(params), options.lr(), decoupled ? "adamw" : "adam",
                {{"m", 0.0}, {"v", 0.0}}),
      options_(options),
      decoupled_(decoupled) {
  const char* k = decoupled ? "adamw" : "adam";
  check_option(options.beta1() >= 0 && options.beta1() < 1, k, "beta1", "in [0, 1)", options.beta1());
  check_option(options.beta2() >= 0 && options.beta2() < 1, k, "beta2", "in [0, 1)", options.beta2());
  check_option(options.eps() >= 0, k, "eps", ">= 0", options.eps());
  check_option(options.weight_decay() >= 0, k, "weight_decay", ">= 0", options.weight_decay());
}

void Adam::update(Parameter& p, std::vector<Tensor>& state, UpdateRange r) {
  AdamStep s;
  s.zero_grad = zero_grad_in_update();
  s.lr = lr();
  s.beta1 = options_.beta1();
  s.beta2 = options_.beta2();
  s.eps = options_.eps();
  s.weight_decay = options_.weight_decay();
  if (bias_step_ != step_count()) {
    bias_step_ = step_count();
    bias1_ = 1 - std::pow(s.beta1, double(bias_step_));
    bias2_ = 1 - std::pow(s.beta2, double(bias_step_));
  }
  s.bias1 = bias1_;
  s.bias2 = bias2_;
  s.decoupled = decoupled_;
  // A row-gradient table on the CPU: rows without gradient get their step later (see
  // AdamOptions::defer_untouched_rows), unless another optimizer already defers its steps (two
  // optimizers over one table: this one then streams it). Otherwise p.value() settles any
  // steps left pending before the whole table is updated.
  if (r.grad_rows && options_.defer_untouched_rows() && p.device().is_cpu()) {
    auto mine = deferred_.find(&p);
    if (mine == deferred_.end() && !p.deferred())
      mine = deferred_.emplace(&p, std::make_unique<DeferredAdamRows>(p, state)).first;
    if (mine != deferred_.end()) {
      mine->second->step(s);
      return;
    }
  }
  backend(p.device()).adam_update(p.dtype(), p.value().data(), p.grad().data(), state[0].data(),
                                  state[1].data(), r, s);
}

void Adam::settle_deferred() {
  for (auto& [p, d] : deferred_) d->settle_all();
}

Adam::~Adam() = default;

AdamW::AdamW(std::vector<Parameter*> params, AdamWOptions options)
    : Adam(std::move(params), as_adam(options), true) {}

}  // namespace flare::optim
