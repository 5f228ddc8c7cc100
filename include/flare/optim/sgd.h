#pragma once
/// Stochastic gradient descent with optional momentum, Nesterov momentum and L2 weight decay,
/// with PyTorch's formulas (torch.optim.SGD). Per element, at step t:
///
///     g' = g + weight_decay * w
///     b  = (t == 1) ? g' : momentum * b + (1 - dampening) * g'     (when momentum != 0)
///     d  = momentum == 0 ? g' : nesterov ? g' + momentum * b : b
///     w -= lr * d
///
/// State: `<param>/sgd/momentum` (only when momentum != 0). Sparse parameters: see
/// optimizer.h; a row first touched after step 1 starts from b = 0, so its first buffer is
/// (1 - dampening) * g' (the same as dense when dampening is 0).
#include "flare/optim/optimizer.h"

namespace flare::optim {

struct SgdOptions {
  explicit SgdOptions(double lr = 0.1) : lr_(lr) {}
  FLARE_OPTION(double, lr, 0.1);
  FLARE_OPTION(double, momentum, 0.0);
  FLARE_OPTION(double, dampening, 0.0);
  FLARE_OPTION(double, weight_decay, 0.0);
  FLARE_OPTION(bool, nesterov, false);
};

class Sgd : public Optimizer {
 public:
  /// Throws flare::Error for a negative lr, momentum, dampening or weight decay, or Nesterov
  /// without momentum or with dampening (as PyTorch does).
  explicit Sgd(std::vector<Parameter*> params, SgdOptions options = SgdOptions());
  const SgdOptions& options() const { return options_; }

 protected:
  void update(Parameter& p, std::vector<Tensor>& state, UpdateRange r) override;

 private:
  SgdOptions options_;
};

}  // namespace flare::optim
