#include "flare/optim/adagrad.h"

namespace flare::optim {

Adagrad::Adagrad(std::vector<Parameter*> params, AdagradOptions options)
    : Optimizer(std::move(params), options.lr(), "adagrad",
                {{"sum", options.initial_accumulator_value()}}),
      options_(options) {
  check_option(options.lr_decay() >= 0, "adagrad", "lr_decay", ">= 0", options.lr_decay());
  check_option(options.weight_decay() >= 0, "adagrad", "weight_decay", ">= 0", options.weight_decay());
  check_option(options.initial_accumulator_value() >= 0, "adagrad", "initial_accumulator_value",
               ">= 0", options.initial_accumulator_value());
  check_option(options.eps() >= 0, "adagrad", "eps", ">= 0", options.eps());
}

void Adagrad::update(Parameter& p, std::vector<Tensor>& state, UpdateRange r) {
  AdagradStep s;
  s.zero_grad = zero_grad_in_update();
  s.lr = lr() / (1 + double(step_count() - 1) * options_.lr_decay());
  s.eps = options_.eps();
  s.weight_decay = options_.weight_decay();
  backend(p.device()).adagrad_update(p.dtype(), p.value().data(), p.grad().data(),
                                     state[0].data(), r, s);
}

}  // namespace flare::optim
