#include "flare/optim/sgd.h"

#include "flare/error.h"

namespace flare::optim {
namespace {

std::vector<Optimizer::Slot> sgd_slots(const SgdOptions& o) {
  if (o.momentum() == 0) return {};
  return {{"momentum", 0.0}};
}

}  // namespace

Sgd::Sgd(std::vector<Parameter*> params, SgdOptions options)
    : Optimizer(std::move(params), options.lr(), "sgd", sgd_slots(options)), options_(options) {
  check_option(options.momentum() >= 0, "sgd", "momentum", ">= 0", options.momentum());
  check_option(options.dampening() >= 0, "sgd", "dampening", ">= 0", options.dampening());
  check_option(options.weight_decay() >= 0, "sgd", "weight_decay", ">= 0", options.weight_decay());
  if (options.nesterov() && (options.momentum() <= 0 || options.dampening() != 0))
    throw Error("sgd: Nesterov momentum needs momentum > 0 and dampening 0");
}

void Sgd::update(Parameter& p, std::vector<Tensor>& state, UpdateRange r) {
  SgdStep s;
  s.zero_grad = zero_grad_in_update();
  s.lr = lr();
  s.momentum = options_.momentum();
  s.dampening = options_.dampening();
  s.weight_decay = options_.weight_decay();
  s.nesterov = options_.nesterov();
  s.first = step_count() == 1;
  void* buf = state.empty() ? nullptr : state[0].data();
  backend(p.device()).sgd_update(p.dtype(), p.value().data(), p.grad().data(), buf, r, s);
}

}  // namespace flare::optim
