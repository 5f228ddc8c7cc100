#pragma once
/// 1-D convolution layer over [channels, time] sequences.
#include <cstdint>
#include <optional>
#include <string>

#include "flare/conv.h"
#include "flare/nn/init.h"
#include "flare/nn/module.h"

namespace flare::nn {

struct Conv1dOptions {
  int64_t stride = 1;
  Pad1d pad{};
  int64_t dilation = 1;
  bool bias = true;
  /// Unset: PyTorch's default, U(-r, r) with r = 1/sqrt(in_channels * width), for W and b.
  std::optional<Init> weight_init;
  std::optional<Init> bias_init;
};

/// y = conv1d(x, W, b): one unfold and one GEMM per example. Parameters: W [out, in, width],
/// b [out] (named path/W and path/b), the layout and default initialisation of torch.nn.Conv1d.
class Conv1d : public Module {
 public:
  Conv1d(Model& m, int64_t in_channels, int64_t out_channels, int64_t width,
         const Conv1dOptions& o = {}, const std::string& name = "conv1d");

  /// x: [in_channels, T]xB -> [out_channels, Tout]xB (see flare::conv1d for Tout).
  Expr forward(const Expr& x) const;
  Expr operator()(const Expr& x) const { return forward(x); }
  /// With this padding instead of the layer's own (e.g. padding short sentences with zeros).
  Expr forward(const Expr& x, const Pad1d& pad) const;

  int64_t in_channels() const { return in_; }
  int64_t out_channels() const { return out_; }
  int64_t width() const { return width_; }
  Parameter& weight() const { return *W_; }
  /// Null without a bias.
  Parameter* bias() const { return b_; }

 private:
  int64_t in_, out_, width_;
  Conv1dArgs args_;
  Parameter* W_;
  Parameter* b_ = nullptr;
};

}  // namespace flare::nn
