#include "flare/nn/dropout.h"

#include "flare/error.h"
#include "flare/ops.h"

namespace flare::nn {

Dropout::Dropout(Model& m, double p, const std::string& name) : Module(m, name), p_(p) {
  if (!(p >= 0 && p < 1))
    throw Error("Dropout " + path() + ": p must be in [0, 1); got " + std::to_string(p));
  close_scope();
}

Expr Dropout::forward(const Expr& x) const { return dropout(x, p_, training()); }

}  // namespace flare::nn
