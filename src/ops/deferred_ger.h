#pragma once
// Deferred weight gradients. In a dynamic model one weight matrix W (an LSTM's, a Tree-LSTM's)
// is used by many matrix-vector nodes of one graph, and each node's backward adds a rank-1 term
// dy x^T to dW, reading and writing all of dW: for a 640x128 W that is 640 KiB of traffic per
// node for 82k multiply-adds. During an eager backward pass those terms are collected per
// parameter instead and applied at the end in one Backend::ger_batched pass over dW, which
// rounds exactly as the rank-1 calls it replaces: values are bit-identical to running them one
// by one (the static engine and the auto-batcher, which run them one by one, agree with eager).
//
// Only the gradients of parameters are deferred (nothing reads them during backward), only while
// a DeferredGerScope is active on the thread (eager Graph::backward), and a parameter's pending
// terms are applied before anything else writes its gradient: affine and matmul check for
// themselves, the backward loop calls before_backward() for every other node.
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
};

/// For ops: true when dW, the gradient of argument `w` (a parameter), may take the rank-1 term
/// dW[m,k] += a b^T later: a scope is active, w is a parameter node, the type is float32.
bool can_defer_ger(const Ctx& c, int w);
/// Records dW[m,k] (rows of k) += a[m] b[k]^T (both contiguous, alive until the graph is
/// cleared). Call only after can_defer_ger().
void defer_ger(const Ctx& c, void* dw, int64_t m, int64_t k, const void* a, const void* b);
/// Applies the pending terms of gradient memory `g`, if any (before writing it directly).
void flush_deferred(void* g);

}  // namespace flare::ops
