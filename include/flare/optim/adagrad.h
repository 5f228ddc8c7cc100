#pragma once
/// Adagrad (torch.optim.Adagrad). Per element, at step t:
///
///     lr_t = lr / (1 + (t - 1) * lr_decay)
///     g'   = g + weight_decay * w
///     s   += g'^2                          (s starts at initial_accumulator_value)
///     w   -= lr_t * g' / (sqrt(s) + eps)
///
/// State: `<param>/adagrad/sum`. Sparse parameters: see optimizer.h (untouched rows keep s).
#include "flare/optim/optimizer.h"

namespace flare::optim {

struct AdagradOptions {
  explicit AdagradOptions(double lr = 1e-2) : lr_(lr) {}
  FLARE_OPTION(double, lr, 1e-2);
  FLARE_OPTION(double, lr_decay, 0.0);
  FLARE_OPTION(double, weight_decay, 0.0);
  FLARE_OPTION(double, initial_accumulator_value, 0.0);
  FLARE_OPTION(double, eps, 1e-10);
};

class Adagrad : public Optimizer {
 public:
  /// Throws flare::Error for a negative lr, lr_decay, weight decay, initial value or eps.
  explicit Adagrad(std::vector<Parameter*> params, AdagradOptions options = AdagradOptions());
  const AdagradOptions& options() const { return options_; }

 protected:
  void update(Parameter& p, std::vector<Tensor>& state, UpdateRange r) override;

 private:
  AdagradOptions options_;
};

}  // namespace flare::optim
