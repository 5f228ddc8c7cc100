// A two-hidden-layer MLP classifier on synthetic data, eager or static (bench/pytorch/mlp.py's
// twin). x in R^100 ~ N(0, I); label = argmax(A x) over 10 classes for a fixed teacher
// A ~ N(0, 1). Model: 100 -> 128 (ReLU) -> 128 (ReLU) -> 10, softmax cross-entropy.
#include "common/synthetic.h"
#include "flare/nn/linear.h"

int main(int argc, char** argv) {
  flare::bench::SyntheticArgs args;
  if (int rc = flare::bench::parse_synthetic_args(argc, argv, "flare mlp benchmark", args); rc >= 0) return rc;
  constexpr int64_t kInput = 100, kHidden = 128, kClasses = 10;
  std::vector<float> A;
  auto label = [&A](const std::vector<float>& x) {
    int32_t best = 0;
    double best_s = -1e300;
    for (int64_t c = 0; c < kClasses; ++c) {
      double s = 0;
      for (int64_t i = 0; i < kInput; ++i) s += double(A[size_t(c * kInput + i)]) * x[size_t(i)];
      if (s > best_s) best_s = s, best = int32_t(c);
    }
    return best;
  };
  flare::bench::SyntheticData data = flare::bench::make_synthetic(1, kInput, kClasses, label, &A, kClasses * kInput);

  flare::manual_seed(args.seed);
  flare::nn::Model model;
  flare::nn::MLPOptions o;
  o.activation = flare::nn::Activation::relu;
  flare::nn::MLP mlp(model, {kInput, kHidden, kHidden, kClasses}, o);
  return flare::bench::run_synthetic("mlp", args, data, model, flare::bench::LossKind::softmax,
                                     [&](flare::Graph&, const std::vector<flare::Expr>& xs) { return mlp(xs[0]); });
}
