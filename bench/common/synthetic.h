#pragma once
// The static-graph benchmarks (logreg, mlp, lstm-fixed): synthetic data, and one training
// driver that runs a model eagerly (a graph rebuilt per update) or statically (recorded once,
// compiled, fed per update). Matches bench/pytorch/synthetic.py: 10,000 training and 2,000 dev
// examples from a fixed teacher, --batch examples per update with the loss summed, Adam lr
// 1e-3, batches in a shuffled order each epoch, 5 untimed warm-up updates, dev accuracy.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "flare/flare.h"
#include "flare/nn/model.h"

namespace flare::bench {

constexpr uint64_t kDataSeed = 12345;
constexpr int64_t kTrainExamples = 10000;
constexpr int64_t kDevExamples = 2000;
constexpr int kWarmupUpdates = 5;

struct SyntheticArgs {
  std::string mode = "eager";  // eager or static
  double seconds = 10.0;
  uint64_t seed = 1;
  int64_t batch = 1;
  std::string data;  // accepted for bench/run, unused
  int sparse = 0;    // likewise
};

/// Parses the common flags; returns -1 to go on, else the exit code (help, bad flags).
int parse_synthetic_args(int argc, char** argv, const std::string& description, SyntheticArgs& a);

/// Inputs are `steps` vectors of `dim` per example, stored time-major ([step][example][dim]) so
/// that step t of a run of consecutive examples is one contiguous block.
struct SyntheticSplit {
  int64_t n = 0;
  std::vector<float> x;
  std::vector<int32_t> y;  // class ids (0/1 for logistic regression)
};
struct SyntheticData {
  int64_t steps = 1, dim = 0, classes = 0;
  SyntheticSplit train, dev;
  const float* step(const SyntheticSplit& s, int64_t t, int64_t first) const {
    return s.x.data() + (t * s.n + first) * dim;
  }
};

/// N(0, 1) inputs from a generator seeded with kDataSeed; labels from `label`, which sees one
/// example's steps x dim values (example-major) and returns its class.
SyntheticData make_synthetic(int64_t steps, int64_t dim, int64_t classes,
                             const std::function<int32_t(const std::vector<float>&)>& label,
                             std::vector<float>* teacher, int64_t teacher_size);

/// How scores become a loss: softmax cross-entropy over classes, or the logistic loss of one
/// logit against a 0/1 target (BCE with logits).
enum class LossKind { softmax, logistic };

/// The model: scores ([classes]xB, or [1]xB for logistic) from the inputs (one [dim]xB per step).
using ScoreFn = std::function<Expr(Graph&, const std::vector<Expr>&)>;

/// Trains with Adam over model.parameters() for args.seconds in args.mode, evaluates dev
/// accuracy (same mode, one example at a time) and prints the result line.
int run_synthetic(const std::string& task, const SyntheticArgs& args, const SyntheticData& data,
                  nn::Model& model, LossKind loss, const ScoreFn& scores);

}  // namespace flare::bench
