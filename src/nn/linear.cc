#include "flare/nn/linear.h"

#include "flare/error.h"
#include "flare/ops.h"

namespace flare::nn {

Linear::Linear(Model& m, int64_t in, int64_t out, const LinearOptions& o, const std::string& name)
    : Module(m, name), in_(in), out_(out) {
  if (in < 1 || out < 1)
    throw Error("Linear " + path() + ": dims must be positive; got in=" + std::to_string(in) +
                " out=" + std::to_string(out));
  W_ = &add_parameter("W", Shape({out, in}), o.weight_init);
  if (o.bias) b_ = &add_parameter("b", Shape({out}), o.bias_init);
  close_scope();
}

Expr Linear::forward(const Expr& x) const {
  Graph& g = x.graph();
  if (b_) return affine({g.param(*b_), g.param(*W_), x});
  return matmul(g.param(*W_), x);
}

MLP::MLP(Model& m, const std::vector<int64_t>& sizes, const MLPOptions& o, const std::string& name)
    : Module(m, name), opt_(o) {
  if (sizes.size() < 2)
    throw Error("MLP " + path() + ": needs at least 2 sizes (input and output); got " +
                std::to_string(sizes.size()));
  if (o.dropout < 0 || o.dropout >= 1)
    throw Error("MLP " + path() + ": dropout must be in [0, 1); got " + std::to_string(o.dropout));
  for (size_t i = 0; i + 1 < sizes.size(); ++i)
    layers_.push_back(std::make_unique<Linear>(m, sizes[i], sizes[i + 1], o.linear, "l" + std::to_string(i)));
  close_scope();
}

Expr MLP::forward(const Expr& x) const {
  Expr h = x;
  for (size_t i = 0; i < layers_.size(); ++i) {
    h = layers_[i]->forward(h);
    if (i + 1 < layers_.size()) {
      h = activate(opt_.activation, h);
      if (opt_.dropout > 0) h = dropout(h, opt_.dropout, training());
    }
  }
  return h;
}

}  // namespace flare::nn
