// An LSTM over exactly 20 steps on synthetic data, eager or static (bench/pytorch/lstm_fixed.py's
// twin). Input: 20 steps of x_t in R^64 ~ N(0, I); label = argmax(A mean_t x_t) over 10 classes
// for a fixed teacher A ~ N(0, 1). Model: one LSTM layer, hidden 128, zero initial state; its
// final hidden state -> linear 128 -> 10, softmax cross-entropy.
#include "common/synthetic.h"
#include "flare/nn/linear.h"
#include "flare/nn/rnn.h"

int main(int argc, char** argv) {
  flare::bench::SyntheticArgs args;
  if (int rc = flare::bench::parse_synthetic_args(argc, argv, "flare lstm-fixed benchmark", args); rc >= 0) return rc;
  constexpr int64_t kSteps = 20, kInput = 64, kHidden = 128, kClasses = 10;
  std::vector<float> A;
  auto label = [&A](const std::vector<float>& x) {  // x: kSteps x kInput, example-major
    int32_t best = 0;
    double best_s = -1e300;
    for (int64_t c = 0; c < kClasses; ++c) {
      double s = 0;
      for (int64_t t = 0; t < kSteps; ++t)
        for (int64_t i = 0; i < kInput; ++i) s += double(A[size_t(c * kInput + i)]) * x[size_t(t * kInput + i)];
      if (s > best_s) best_s = s, best = int32_t(c);
    }
    return best;
  };
  flare::bench::SyntheticData data = flare::bench::make_synthetic(kSteps, kInput, kClasses, label, &A, kClasses * kInput);

  flare::manual_seed(args.seed);
  flare::nn::Model model;
  flare::nn::LSTMCell lstm(model, kInput, kHidden);
  flare::nn::Linear out(model, kHidden, kClasses);
  return flare::bench::run_synthetic("lstm-fixed", args, data, model, flare::bench::LossKind::softmax,
                                     [&](flare::Graph&, const std::vector<flare::Expr>& xs) {
                                       return out(flare::nn::run(lstm, xs).final.h);
                                     });
}
