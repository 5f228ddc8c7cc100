#pragma once
// How the examples turn per-example losses into gradients: one example at a time (eager), or
// `--autobatch N`: the losses of N examples are recorded in one lazy graph and computed by
// flare::Autobatch as batched kernels, with one backward over their sum. Either way the
// parameters' gradients hold the sum over the examples of an update, so an autobatched run and
// a per-example run with the same grouping (`--update-every N`) take the same optimizer steps up
// to float rounding; tests/examples/autobatch_examples_test.cc checks that on each model.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "flare/autobatch.h"
#include "flare/graph.h"

namespace flare::examples {

/// Builds the training loss of example i into g (g is empty or holds the batch's other losses).
using LossFn = std::function<Expr(Graph& g, size_t i)>;

class GradientAccumulator {
 public:
  /// autobatch 0: every add() computes its example's loss and gradient at once. autobatch > 0:
  /// add() records the loss in a lazy, auto-batched graph; flush() computes them all. The graph
  /// is on `device`, where the model's parameters must be.
  GradientAccumulator(LossFn loss, int64_t autobatch, Device device = Device::cpu());

  /// Adds example i's gradient (now, or at flush() when autobatching). Returns its loss when
  /// computed now, 0 when recorded.
  double add(size_t i);
  /// Computes the recorded losses (batched), runs backward on their sum and returns it; 0 when
  /// nothing is pending or in per-example mode. The graph is empty afterwards.
  double flush();
  /// Examples recorded and not yet flushed.
  size_t pending() const { return losses_.size(); }

  bool autobatching() const { return ab_ != nullptr; }
  /// The executor's counters (copy fraction, group sizes); nullptr in per-example mode.
  const AutobatchStats* stats() const { return ab_ ? &ab_->stats() : nullptr; }

 private:
  LossFn loss_;
  std::unique_ptr<Autobatch> ab_;
  Graph g_;
  std::vector<Expr> losses_;
};

}  // namespace flare::examples
