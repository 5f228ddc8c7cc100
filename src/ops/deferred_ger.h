#pragma once
// Deferred weight gradients. In a dynamic model one weight matrix W (an LSTM's, a Tree-LSTM's)
// is used by many matrix-vector nodes of one graph, and each node's backward adds a rank-1 term
// dy x^T to dW, reading and writing all of dW: for a 640x128 W that is 640 KiB of traffic per
// node for 82k multiply-adds. During an eager backward pass those terms are collected per
// parameter instead and applied at the end in one Backend::ger_batched pass over dW, which
// rounds like the rank-1 calls it replaces on the CPU (bit-identical there), but not on every
// device: CUDA's one-pass kernel and cuBLAS's rank-1 gemm round differently. So every engine
// that promises eager's bits runs the same deferral: eager Graph::backward and the static
// plan's backward (src/exec/static_run.cc) both open a scope, call before_backward() per node
// and flush() at the end, and the static planner keeps the deferred vectors alive until then
// (deferrable_weights()). The auto-batcher merges the products themselves and promises only
// rounding-level agreement.
//
// Only the gradients of parameters are deferred (nothing reads them during backward), only while
// a DeferredGerScope is active on the thread, and a parameter's pending terms are applied before
// anything else writes its gradient: affine and matmul check for themselves, the backward loop
// calls before_backward() for every other node. Under anomaly checks (which look at every
// gradient as soon as its node has run) neither engine defers.
#include <cstdint>
#include <vector>

#include "ops/registry.h"

namespace flare::ops {

class DeferredGerScope {
 public:
  /// Activates deferral on this thread when `enabled` (no-op otherwise). Scopes do not nest.
  DeferredGerScope(Backend& be, bool enabled);
  /// Drops what is still pending (a backward that threw leaves gradients undefined anyway).
  ~DeferredGerScope();
  DeferredGerScope(const DeferredGerScope&) = delete;
  DeferredGerScope& operator=(const DeferredGerScope&) = delete;

  /// Applies every pending term.
  void flush();
  /// Before node n's backward: applies the pending terms of any parameter argument that n's op
  /// would write without deferring.
  /// `nodes` is the graph's node array, `arg_ids` n's argument indices into it.
  void before_backward(const Node& n, const Node* nodes, const uint32_t* arg_ids) const;
  /// The same, for engines that hold argument pointers (the static plan).
  void before_backward(const Node& n, Node* const* args) const;
};

/// One ger_batched call made by a flush: dW[m,k] += the sum of `count` rank-1 terms.
struct DeferredGerCall {
  int64_t m = 0, k = 0, count = 0;
  bool operator==(const DeferredGerCall& o) const { return m == o.m && k == o.k && count == o.count; }
};
/// Tests: while `sink` is set, every ger_batched issued by a flush on this thread is appended to
/// it, so that two engines can be checked to take the same accumulation path. Null stops it.
void trace_deferred_gers(std::vector<DeferredGerCall>* sink);

/// The weights of node y whose gradient term y's backward would defer inside a scope, given only
/// the nodes' op, dtype, shapes and flags: the argument indices w (a parameter matrix W, with
/// dW += dy x^T, x = args[w+1]) are appended to `ws`. Defined next to the ops that defer
/// (linalg.cc) so that planner and op share one rule. The static planner keeps y's gradient and
/// x's value alive until the end of backward for each, since the flush reads them there.
void deferrable_weights(const Node& y, Node* const* args, int nargs, std::vector<int>& ws);

/// For ops: true when dW, the gradient of argument `w` (a parameter), may take the rank-1 term
/// dW[m,k] += a b^T later: a scope is active, w is a parameter node, the type is float32.
bool can_defer_ger(const Ctx& c, int w);
/// Records dW[m,k] (rows of k) += a[m] b[k]^T (both contiguous, alive until the graph is
/// cleared). Call only after can_defer_ger().
void defer_ger(const Ctx& c, void* dw, int64_t m, int64_t k, const void* a, const void* b);
/// Applies the pending terms of gradient memory `g`, if any (before writing it directly).
void flush_deferred(void* g);

}  // namespace flare::ops
