#pragma once
/// On-the-fly auto-batching: write the model one example at a time, let flare run the nodes of
/// many examples together.
///
///     flare::Autobatch ab;                      // one per graph (or per training loop)
///     flare::Graph g;
///     g.set_executor(&ab);                      // lazy: nodes are recorded, not computed
///     std::vector<flare::Expr> losses;
///     for (const Example& ex : batch) losses.push_back(model.loss(g, ex));
///     flare::Expr loss = flare::sum(losses);
///     loss.backward();                          // computes everything, batched, then backward
///     optimizer.step();
///     g.clear();                                // the executor stays set for the next batch
///
/// In lazy mode shapes are still checked as each node is added (errors point at the user's
/// line), but values are computed only when something asks: Expr::value(), item(), backward().
/// At that point the executor groups the pending nodes that have the same signature and do not
/// depend on one another, and runs each group as ONE call of the op's own kernel on a synthetic
/// node whose stacked arguments are concatenated along the batch dimension (shared arguments,
/// such as a weight matrix, stay batch 1). The group's outputs are one contiguous block, so each
/// node's value is a slice of it. Backward runs the same groups in reverse, each again as one
/// call. Values and gradients equal eager mode's up to float rounding (random ops: exactly, for
/// the same seed). docs/autobatch.md describes the signature, the scheduling heuristic and the
/// memory layout.
///
/// Reading a value in the middle of building (a per-example loss, say) computes everything
/// pending at that moment, so nodes recorded before and after it are batched separately: read
/// values after the whole batch is built.
#include <cstdint>
#include <memory>
#include <vector>

#include "flare/graph.h"

namespace flare {

/// How pending nodes are grouped into batched kernel calls.
enum class BatchStrategy : uint8_t {
  /// DyNet's by-agenda heuristic: repeatedly run, among the signatures that have ready nodes, the
  /// one whose nodes are shallowest on average (so deep chains wait for their peers).
  agenda,
  /// DyNet's by-depth heuristic: nodes of one signature at the same depth run together.
  depth,
  /// No batching: every node runs alone in recording order (lazy mode with eager's kernels).
  none,
};

struct AutobatchOptions {
  BatchStrategy strategy = BatchStrategy::agenda;
  /// Order each group's members as their consumers will read them (planned over the whole
  /// pending graph before anything runs), so that stacked arguments are already contiguous and
  /// need no copy. Off: members run in recording order, as DyNet does.
  bool plan_layout = true;
  /// Element-wise ops whose arguments all have the output's shape batch regardless of shape
  /// (tanh over [50] and over [64] is one call over 114 elements). Off: the shape is part of
  /// the signature, as in DyNet.
  bool flat_elementwise = true;
};

/// What the executor did since the last reset_stats(). An "operand element" is one element of
/// a stacked argument a batched kernel reads (forward values; backward: the output gradient it
/// reads and the argument gradients it accumulates into); a "copied element" is one of those that
/// had to be gathered into (or scattered out of) a temporary because the nodes' memory was not
/// contiguous in the group's order.
struct AutobatchStats {
  uint64_t nodes = 0;              // nodes computed
  uint64_t forward_kernels = 0;    // op calls in forward (one per group)
  uint64_t batched_groups = 0;     // groups of two or more nodes
  uint64_t batched_nodes = 0;      // nodes computed inside such groups
  uint64_t backward_kernels = 0;   // op calls in backward
  uint64_t operand_elements = 0;
  uint64_t copied_elements = 0;
  uint64_t value_elements = 0;     // elements of every value computed
  double copy_seconds = 0;         // time spent gathering and scattering operands
  double schedule_seconds = 0;     // time spent on signatures, scheduling and layout planning
  double total_seconds = 0;        // time spent inside the executor (forward and backward)

  /// copied_elements / operand_elements (0 when nothing was batched).
  double copy_fraction() const {
    return operand_elements ? double(copied_elements) / double(operand_elements) : 0.0;
  }
  /// copy_seconds / total_seconds.
  double copy_time_share() const { return total_seconds > 0 ? copy_seconds / total_seconds : 0.0; }
  /// Nodes per forward kernel call.
  double mean_group_size() const { return forward_kernels ? double(nodes) / double(forward_kernels) : 0.0; }
};

/// The auto-batching executor. It keeps what backward needs (the groups it ran) for one graph
/// at a time: use one Autobatch per graph. A graph that is cleared and rebuilt starts afresh;
/// backward() on a graph whose groups were dropped (because the executor computed another graph
/// since) throws flare::Error rather than guess. Not thread-safe.
class Autobatch : public Executor {
 public:
  explicit Autobatch(const AutobatchOptions& o = {});
  ~Autobatch() override;
  Autobatch(const Autobatch&) = delete;
  Autobatch& operator=(const Autobatch&) = delete;

  void forward(Graph& g, uint32_t begin, uint32_t end) override;
  void backward(Graph& g, uint32_t root, const std::vector<uint8_t>& reach) override;
  bool batches_examples() const override { return true; }

  const AutobatchOptions& options() const;
  const AutobatchStats& stats() const;
  void reset_stats();

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

/// Makes a graph lazy and auto-batched for the scope's lifetime:
///
///     { flare::AutobatchScope batched(g); ...build 64 examples...; loss.backward(); }
///
/// close() (or the destructor) computes whatever is still pending and restores the graph's
/// previous executor. Call close() to see errors from that last computation as exceptions; the
/// destructor cannot throw, so if that computation fails there the graph keeps this scope's
/// executor (it is then deliberately kept alive) rather than pointing at a destroyed one.
class AutobatchScope {
 public:
  explicit AutobatchScope(Graph& g, const AutobatchOptions& o = {});
  ~AutobatchScope();
  AutobatchScope(const AutobatchScope&) = delete;
  AutobatchScope& operator=(const AutobatchScope&) = delete;

  Autobatch& executor() { return *ab_; }
  void close();

 private:
  Graph* g_;
  Executor* prev_;
  std::unique_ptr<Autobatch> ab_;
  bool open_ = true;
};

}  // namespace flare
