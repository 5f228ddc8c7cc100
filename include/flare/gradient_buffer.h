#pragma once
/// Gradients kept apart from the parameters', for training one model on several threads.
///
/// Graph::backward() normally accumulates into Parameter::grad(), which two threads must not
/// do at once. Instead each thread builds its own graphs, attached to its own GradientBuffer,
/// and backward() accumulates there; once the threads are joined, reduce_into() adds each
/// buffer into the parameters in a fixed order and the optimizer steps as usual:
///
///     std::vector<flare::GradientBuffer> grads;
///     for (int t = 0; t < threads; ++t) grads.emplace_back(model.parameters());
///     // thread t, over its own fixed share of the batch:
///     flare::Graph g;
///     g.set_gradients(&grads[t]);
///     for (...) { g.clear(); g.backward(loss(g, example)); }
///     // after join, on one thread:
///     opt.zero_grad();
///     for (auto& b : grads) b.reduce_into();   // buffer 0 first, then 1, ...
///     opt.step();
///
/// Summation rule: Parameter::grad() ends up as ((grad + buf[0]) + buf[1]) + ..., each buffer
/// holding its thread's examples summed in the order that thread ran them. With a fixed
/// assignment of examples to buffers the result is the same bits on every run, whatever the
/// threads' timing; it equals a one-thread run over the same examples up to float rounding.
///
/// What may run concurrently: any number of graphs over the same parameters, each reading
/// the values (forward, backward) while writing only its own buffer. Nothing may change the
/// parameters meanwhile (optimizer steps, zero_grad, loading) — do that between rounds.
#include <cstdint>
#include <unordered_map>
#include <vector>

#include "flare/parameter.h"
#include "flare/tensor.h"

namespace flare {

class GradientBuffer {
 public:
  /// A zero gradient for each parameter in `params` (same shape, dtype and device). The
  /// parameters must outlive the buffer; throws flare::Error for a null or repeated one.
  explicit GradientBuffer(const std::vector<Parameter*>& params);

  const std::vector<Parameter*>& parameters() const { return params_; }
  /// This buffer's gradient of `p`; throws flare::Error naming p when it is not one of its
  /// parameters.
  Tensor& grad(const Parameter& p);
  bool contains(const Parameter& p) const { return index_.count(&p) != 0; }

  /// Sparse and row-gradient parameters: records that rows `ids` of p's gradient here are nonzero (what
  /// Parameter::mark_rows does for the parameter's own gradient).
  void mark_rows(const Parameter& p, const int32_t* ids, int64_t n);
  /// Rows of p marked since the last zero(), in first-touch order.
  const std::vector<int32_t>& touched_rows(const Parameter& p) const;

  /// Adds every gradient into its parameter's grad() (for sparse and row-gradient parameters only
  /// the touched rows, which are also marked on the parameter, so optimizers read just those), then
  /// zeroes this buffer. Call with no graph using the buffer or the parameters.
  void reduce_into();
  /// Zeroes every gradient (only touched rows of sparse and row-gradient parameters).
  void zero();

 private:
  struct Slot {
    Parameter* param;
    Tensor grad;
    std::vector<int32_t> touched;
    std::vector<uint8_t> mask;  // per row of a row-tracking parameter: touched since zero()
  };
  Slot& slot(const Parameter& p);
  const Slot& slot(const Parameter& p) const;
  void zero(Slot& s);

  std::vector<Parameter*> params_;
  std::vector<Slot> slots_;
  std::unordered_map<const Parameter*, size_t> index_;
};

}  // namespace flare
