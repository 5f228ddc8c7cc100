#pragma once
/// Adam and AdamW (torch.optim.Adam / AdamW, without amsgrad). Per element, at step t:
///
///     Adam:  g' = g + weight_decay * w             AdamW: w *= 1 - lr * weight_decay; g' = g
///     m  = beta1 * m + (1 - beta1) * g'
///     v  = beta2 * v + (1 - beta2) * g'^2
///     w -= lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
///
/// State: `<param>/adam/m` and `<param>/adam/v` (`adamw` for AdamW).
///
/// Sparse parameters ("lazy Adam", as PyTorch's SparseAdam): only touched rows are updated.
/// Their m and v decay and absorb the gradient as above; m and v of untouched rows are left
/// exactly as they were (they do not decay), and their values do not move (no momentum step,
/// no weight decay). The bias correction uses the optimizer's global step t, so a row seen for
/// the first time at step t gets m = (1-beta1) g and the correction 1/(1-beta1^t), not
/// 1/(1-beta1): its first step is smaller than a dense Adam's first step would be.
#include "flare/optim/optimizer.h"

namespace flare::optim {

struct AdamOptions {
  explicit AdamOptions(double lr = 1e-3) : lr_(lr) {}
  FLARE_OPTION(double, lr, 1e-3);
  FLARE_OPTION(double, beta1, 0.9);
  FLARE_OPTION(double, beta2, 0.999);
  FLARE_OPTION(double, eps, 1e-8);
  FLARE_OPTION(double, weight_decay, 0.0);

 public:
  /// Sets both betas (PyTorch's betas(std::make_tuple(b1, b2))).
  AdamOptions& betas(double b1, double b2) {
    beta1_ = b1;
    beta2_ = b2;
    return *this;
  }
};

/// AdamW's options: Adam's, with decoupled weight decay defaulting to 1e-2.
struct AdamWOptions {
  explicit AdamWOptions(double lr = 1e-3) : lr_(lr) {}
  FLARE_OPTION(double, lr, 1e-3);
  FLARE_OPTION(double, beta1, 0.9);
  FLARE_OPTION(double, beta2, 0.999);
  FLARE_OPTION(double, eps, 1e-8);
  FLARE_OPTION(double, weight_decay, 1e-2);

 public:
  AdamWOptions& betas(double b1, double b2) {
    beta1_ = b1;
    beta2_ = b2;
    return *this;
  }
};

class Adam : public Optimizer {
 public:
  /// Throws flare::Error for a negative lr, eps or weight decay, or a beta outside [0, 1).
  explicit Adam(std::vector<Parameter*> params, AdamOptions options = AdamOptions());
  const AdamOptions& options() const { return options_; }

 protected:
  Adam(std::vector<Parameter*> params, AdamOptions options, bool decoupled);
  void update(Parameter& p, std::vector<Tensor>& state, UpdateRange r) override;

 private:
  AdamOptions options_;
  bool decoupled_;
  // The bias corrections 1 - beta^t, computed once per step rather than once per parameter
  // (two pow calls each: a measurable share of a step for small models).
  int64_t bias_step_ = -1;
  double bias1_ = 0, bias2_ = 0;
};

class AdamW : public Adam {
 public:
  explicit AdamW(std::vector<Parameter*> params, AdamWOptions options = AdamWOptions());
};

}  // namespace flare::optim
