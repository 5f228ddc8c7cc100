#include "flare/optim/adadelta.h"

namespace flare::optim {

Adadelta::Adadelta(std::vector<Parameter*> params, AdadeltaOptions options)
    : Optimizer(std::move(params), options.lr(), "adadelta", {{"square_avg", 0.0}, {"acc_delta", 0.0}}),
      options_(options) {
  check_option(options.rho() >= 0 && options.rho() <= 1, "adadelta", "rho", "in [0, 1]", options.rho());
  check_option(options.eps() >= 0, "adadelta", "eps", ">= 0", options.eps());
  check_option(options.weight_decay() >= 0, "adadelta", "weight_decay", ">= 0", options.weight_decay());
}

void Adadelta::update(Parameter& p, std::vector<Tensor>& state, UpdateRange r) {
  AdadeltaStep s;
  s.zero_grad = zero_grad_in_update();
  s.lr = lr();
  s.rho = options_.rho();
  s.eps = options_.eps();
  s.weight_decay = options_.weight_decay();
  backend(p.device()).adadelta_update(p.dtype(), p.value().data(), p.grad().data(),
                                      state[0].data(), state[1].data(), r, s);
}

}  // namespace flare::optim
