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
#include <memory>
#include <unordered_map>

#include "flare/optim/optimizer.h"

namespace flare::optim {

class DeferredAdamRows;

struct AdamOptions {
  explicit AdamOptions(double lr = 1e-3) : lr_(lr) {}
  FLARE_OPTION(double, lr, 1e-3);
  FLARE_OPTION(double, beta1, 0.9);
  FLARE_OPTION(double, beta2, 0.999);
  FLARE_OPTION(double, eps, 1e-8);
  FLARE_OPTION(double, weight_decay, 0.0);
  /// Deferred row steps for row-gradient tables on the CPU (Parameter::row_gradients(): dense
  /// nn::Embedding tables). A dense step moves every row of the table, also the rows whose
  /// gradient is zero, and streaming the whole table from memory each step dominates training
  /// with a large vocabulary. With this on (the default), step() updates only the rows with a
  /// gradient and keeps the other rows' zero-gradient steps pending; they run later, many steps
  /// of a row at once while the row is in cache: when a lookup reads the row, when anything reads
  /// the whole table (Parameter::value(), another op, a checkpoint, state()), and at the latest
  /// every 256 steps. The arithmetic is the dense step's, so every value anyone reads is bit for
  /// bit the dense update's. Off: every step streams the whole table.
  FLARE_OPTION(bool, defer_untouched_rows, true);

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
  /// As AdamOptions::defer_untouched_rows.
  FLARE_OPTION(bool, defer_untouched_rows, true);

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
  ~Adam() override;
  const AdamOptions& options() const { return options_; }

 protected:
  Adam(std::vector<Parameter*> params, AdamOptions options, bool decoupled);
  void update(Parameter& p, std::vector<Tensor>& state, UpdateRange r) override;
  void settle_deferred() override;

 private:
  AdamOptions options_;
  bool decoupled_;
  // The bias corrections 1 - beta^t, computed once per step rather than once per parameter
  // (two pow calls each: a measurable share of a step for small models).
  int64_t bias_step_ = -1;
  double bias1_ = 0, bias2_ = 0;
  // The deferred row steps of each parameter that has some (see defer_untouched_rows).
  std::unordered_map<const Parameter*, std::unique_ptr<DeferredAdamRows>> deferred_;
};

class AdamW : public Adam {
 public:
  explicit AdamW(std::vector<Parameter*> params, AdamWOptions options = AdamWOptions());
};

}  // namespace flare::optim
