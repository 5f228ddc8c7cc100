#include "common/batching.h"

#include "flare/error.h"
#include "flare/ops.h"

namespace flare::examples {

GradientAccumulator::GradientAccumulator(LossFn loss, int64_t autobatch, Device device)
    : loss_(std::move(loss)), g_(device) {
  if (!loss_) throw Error("GradientAccumulator: no loss function");
  if (autobatch < 0) throw Error("--autobatch must be >= 0, got " + std::to_string(autobatch));
  if (autobatch > 0) {
    ab_ = std::make_unique<Autobatch>();
    g_.set_executor(ab_.get());
    losses_.reserve(size_t(autobatch));
  }
}

double GradientAccumulator::add(size_t i) {
  if (!ab_) {
    g_.clear();
    Expr loss = loss_(g_, i);
    g_.backward(loss);
    return loss.item();
  }
  // Nothing may read a value here: that would compute the pending nodes and split the batch.
  losses_.push_back(loss_(g_, i));
  return 0.0;
}

double GradientAccumulator::flush() {
  if (!ab_ || losses_.empty()) return 0.0;
  Expr total = losses_.size() == 1 ? losses_.front() : sum(losses_);
  g_.backward(total);  // computes every recorded node (batched), then the batched backward
  const double value = total.item();
  losses_.clear();
  g_.clear();  // the executor stays set for the next batch
  return value;
}

}  // namespace flare::examples
