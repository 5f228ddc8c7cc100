#include "common/rows.h"

#include "flare/error.h"

namespace flare::examples {

Expr stack_rows(const std::vector<Expr>& xs) {
  if (xs.empty()) throw Error("stack_rows: no vectors");
  const int64_t d = xs[0].shape().dim(0);
  return reshape(concat(xs, 0), Shape{int64_t(xs.size()), d});
}

Expr linear_rows(const nn::Linear& layer, const Expr& X) {
  Graph& g = X.graph();
  const int64_t n = X.shape().dim(0), out = layer.out_dim();
  Expr y = matmul(X, transpose(g.param(layer.weight())));
  if (layer.bias()) {
    // 1 b^T: the bias repeated on every row (element-wise ops broadcast only over the batch).
    y = y + matmul(g.constant(Shape{n, 1}, 1.0), reshape(g.param(*layer.bias()), Shape{1, out}));
  }
  return y;
}

Expr summed_nll_rows(const Expr& scores, const std::vector<int32_t>& labels) {
  const int64_t n = scores.shape().dim(0), c = scores.shape().dim(1);
  if (int64_t(labels.size()) != n)
    throw Error("summed_nll_rows: " + std::to_string(labels.size()) + " labels for " + std::to_string(n) + " rows");
  std::vector<float> onehot(size_t(n * c), 0.f);
  for (int64_t r = 0; r < n; ++r) {
    if (labels[size_t(r)] < 0 || labels[size_t(r)] >= c)
      throw IndexError("summed_nll_rows: label " + std::to_string(labels[size_t(r)]) + " of row " +
                       std::to_string(r) + " is outside [0, " + std::to_string(c) + ")");
    onehot[size_t(r * c + labels[size_t(r)])] = 1.f;
  }
  return cross_entropy(scores, scores.graph().input(Shape{n, c}, onehot));
}

std::vector<int32_t> argmax_rows(const Expr& scores) {
  const int64_t n = scores.shape().dim(0), c = scores.shape().dim(1);
  const std::vector<double> v = scores.to_vector();
  std::vector<int32_t> out(size_t(n), 0);
  for (int64_t r = 0; r < n; ++r)
    for (int64_t k = 1; k < c; ++k)
      if (v[size_t(r * c + k)] > v[size_t(r * c + out[size_t(r)])]) out[size_t(r)] = int32_t(k);
  return out;
}

}  // namespace flare::examples
