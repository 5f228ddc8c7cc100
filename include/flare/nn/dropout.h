#pragma once
/// Dropout as a module, so that train()/eval() on a parent switches it.
#include <string>

#include "flare/nn/module.h"

namespace flare::nn {

class Dropout : public Module {
 public:
  /// p in [0, 1): the probability of zeroing an element (the rest are scaled by 1/(1-p)).
  Dropout(Model& m, double p, const std::string& name = "dropout");

  /// Inverted dropout in training mode; x itself (no node) in evaluation mode.
  Expr forward(const Expr& x) const;
  Expr operator()(const Expr& x) const { return forward(x); }
  double p() const { return p_; }

 private:
  double p_;
};

}  // namespace flare::nn
