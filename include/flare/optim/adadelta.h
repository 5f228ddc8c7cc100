#pragma once
/// Adadelta (Zeiler 2012; torch.optim.Adadelta), the original flare's default trainer. Defaults
/// are PyTorch's: lr 1.0, rho 0.9, eps 1e-6. Per element:
///
///     g' = g + weight_decay * w
///     s  = rho * s + (1 - rho) * g'^2
///     d  = sqrt(u + eps) / sqrt(s + eps) * g'
///     u  = rho * u + (1 - rho) * d^2
///     w -= lr * d
///
/// State: `<param>/adadelta/square_avg` (s) and `<param>/adadelta/acc_delta` (u). Sparse
/// parameters: see optimizer.h (untouched rows keep s and u).
#include "flare/optim/optimizer.h"

namespace flare::optim {

struct AdadeltaOptions {
  explicit AdadeltaOptions(double lr = 1.0) : lr_(lr) {}
  FLARE_OPTION(double, lr, 1.0);
  FLARE_OPTION(double, rho, 0.9);
  FLARE_OPTION(double, eps, 1e-6);
  FLARE_OPTION(double, weight_decay, 0.0);
};

class Adadelta : public Optimizer {
 public:
  /// Throws flare::Error for a negative lr, eps or weight decay, or rho outside [0, 1].
  explicit Adadelta(std::vector<Parameter*> params, AdadeltaOptions options = AdadeltaOptions());
  const AdadeltaOptions& options() const { return options_; }

 protected:
  void update(Parameter& p, std::vector<Tensor>& state, UpdateRange r) override;

 private:
  AdadeltaOptions options_;
};

}  // namespace flare::optim
