#pragma once
/// Linear layers and multi-layer perceptrons.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "flare/nn/module.h"

namespace flare::nn {

struct LinearOptions {
  bool bias = true;
  Init weight_init = Init::glorot_uniform();
  Init bias_init = Init::zeros();
};

/// y = W x + b: one affine node (one gemm over a batch). Parameters: W [out, in], b [out]
/// (named path/W and path/b).
class Linear : public Module {
 public:
  Linear(Model& m, int64_t in, int64_t out, const LinearOptions& o = {},
         const std::string& name = "linear");

  /// x: [in]xB -> [out]xB.
  Expr forward(const Expr& x) const;
  Expr operator()(const Expr& x) const { return forward(x); }

  int64_t in_dim() const { return in_; }
  int64_t out_dim() const { return out_; }
  Parameter& weight() const { return *W_; }
  /// Null without a bias.
  Parameter* bias() const { return b_; }

 private:
  int64_t in_, out_;
  Parameter* W_;
  Parameter* b_ = nullptr;
};

struct MLPOptions {
  /// Applied after every layer but the last.
  Activation activation = Activation::tanh;
  /// Dropout probability after each hidden activation (training mode only).
  double dropout = 0.0;
  LinearOptions linear;
};

/// Layers sizes[0] -> sizes[1] -> ... -> sizes.back(), named path/l0, path/l1, ... The last
/// layer has no activation (it gives scores or a regression output).
class MLP : public Module {
 public:
  MLP(Model& m, const std::vector<int64_t>& sizes, const MLPOptions& o = {},
      const std::string& name = "mlp");

  /// x: [sizes.front()]xB -> [sizes.back()]xB.
  Expr forward(const Expr& x) const;
  Expr operator()(const Expr& x) const { return forward(x); }

  const std::vector<std::unique_ptr<Linear>>& layers() const { return layers_; }

 private:
  MLPOptions opt_;
  std::vector<std::unique_ptr<Linear>> layers_;
};

}  // namespace flare::nn
