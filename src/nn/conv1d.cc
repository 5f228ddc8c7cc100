#include "flare/nn/conv1d.h"

#include <cmath>

#include "flare/error.h"

namespace flare::nn {

Conv1d::Conv1d(Model& m, int64_t in_channels, int64_t out_channels, int64_t width,
               const Conv1dOptions& o, const std::string& name)
    : Module(m, name), in_(in_channels), out_(out_channels), width_(width) {
  if (in_channels < 1 || out_channels < 1 || width < 1)
    throw Error("Conv1d " + path() + ": channels and width must be positive; got in=" +
                std::to_string(in_channels) + " out=" + std::to_string(out_channels) +
                " width=" + std::to_string(width));
  if (o.stride < 1 || o.dilation < 1)
    throw Error("Conv1d " + path() + ": stride and dilation must be at least 1");
  args_ = {o.stride, o.pad, o.dilation};
  // torch.nn.Conv1d: kaiming_uniform(a=sqrt(5)) on W and U(-1/sqrt(fan_in), ..) on b, which
  // both come to U(-r, r), r = 1/sqrt(in * width).
  const double r = 1.0 / std::sqrt(double(in_channels * width));
  W_ = &add_parameter("W", Shape({out_channels, in_channels, width}),
                      o.weight_init.value_or(Init::uniform(-r, r)));
  if (o.bias) b_ = &add_parameter("b", Shape({out_channels}), o.bias_init.value_or(Init::uniform(-r, r)));
  close_scope();
}

Expr Conv1d::forward(const Expr& x) const {
  Graph& g = x.graph();
  if (b_) return conv1d(x, g.param(*W_), g.param(*b_), args_);
  return conv1d(x, g.param(*W_), args_);
}

Expr Conv1d::forward(const Expr& x, const Pad1d& pad) const {
  Graph& g = x.graph();
  Conv1dArgs a = args_;
  a.pad = pad;
  if (b_) return conv1d(x, g.param(*W_), g.param(*b_), a);
  return conv1d(x, g.param(*W_), a);
}

}  // namespace flare::nn
