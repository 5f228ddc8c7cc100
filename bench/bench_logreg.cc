// Logistic regression on synthetic data, eager or static (bench/pytorch/logreg.py's twin).
// x in R^100 ~ N(0, I); label 1 when w.x > 0 for a fixed teacher w ~ N(0, I). Model: linear
// 100 -> 1 with bias, logistic loss (BCE with logits) summed over the batch.
#include "common/synthetic.h"
#include "flare/nn/linear.h"

int main(int argc, char** argv) {
  flare::bench::SyntheticArgs args;
  if (int rc = flare::bench::parse_synthetic_args(argc, argv, "flare logreg benchmark", args); rc >= 0) return rc;
  constexpr int64_t kInput = 100;
  std::vector<float> w;
  auto label = [&w](const std::vector<float>& x) {
    double s = 0;
    for (int64_t i = 0; i < kInput; ++i) s += double(w[size_t(i)]) * x[size_t(i)];
    return int32_t(s > 0);
  };
  flare::bench::SyntheticData data = flare::bench::make_synthetic(1, kInput, 2, label, &w, kInput);

  flare::manual_seed(args.seed);
  flare::nn::Model model;
  flare::nn::Linear linear(model, kInput, 1);
  return flare::bench::run_synthetic("logreg", args, data, model, flare::bench::LossKind::logistic,
                                     [&](flare::Graph&, const std::vector<flare::Expr>& xs) { return linear(xs[0]); });
}
