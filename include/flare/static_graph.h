#pragma once
/// Static graphs: build once, plan once, run many times with new inputs.
///
/// For models whose structure is the same for every example (logistic regression, an MLP, a
/// fixed-length RNN), record the graph once with placeholders, compile it, and then each step
/// only feeds new values:
///
///     flare::StaticGraph sg;
///     flare::Graph& g = sg.graph();                       // records; computes nothing
///     flare::Expr x = sg.placeholder("x", flare::Shape{100});
///     flare::IndexPlaceholder y = sg.index_placeholder("y");
///     flare::Expr scores = flare::affine({g.param(b), g.param(W), x});
///     flare::Expr loss = flare::pick_neg_log_softmax(scores, y);
///     sg.compile({scores}, loss);                         // order, liveness, one buffer
///     for (...) {
///       sg.feed("x", x_tensor);
///       sg.feed_index("y", label);
///       sg.forward();
///       sg.backward();                                     // into Parameter::grad(), as eager
///       optimizer.step();
///     }
///
/// compile() fixes the execution order, drops nodes the outputs and the loss do not need, and
/// gives every value and gradient an offset in one buffer, sharing memory between values whose
/// lifetimes (over the forward AND backward schedule) do not overlap. It then makes one warm-up
/// run so that op scratch memory (dropout masks, softmax caches) is held too: after compile(),
/// forward() and backward() allocate nothing and infer no shapes. They run the same kernels in
/// the same order as the eager engine, so values and gradients are bit-identical to an eager
/// run of the same model on the same inputs (random ops included, given the same seed).
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "flare/graph.h"
#include "flare/tensor.h"

namespace flare {

/// A list of integer ids fed anew each run: class labels for pick_neg_log_softmax, indices for
/// pick, word ids for lookup. Its length is fixed when it is declared.
class IndexPlaceholder {
 public:
  IndexPlaceholder() = default;
  const std::string& name() const { return *name_; }
  int64_t size() const { return n_; }
  Graph& graph() const { return *g_; }
  /// The host array the ops read (owned by the graph); StaticGraph::feed_indices writes it.
  const int32_t* data() const { return ids_; }

 private:
  friend class StaticGraph;
  Graph* g_ = nullptr;
  int32_t* ids_ = nullptr;
  int64_t n_ = 0;
  const std::string* name_ = nullptr;
  size_t slot_ = 0;
};

/// The ops that read index lists, taking their indices from a placeholder. Shapes as the
/// std::vector<int32_t> overloads in ops.h: one id, or one per example.
Expr pick_neg_log_softmax(const Expr& x, const IndexPlaceholder& labels);
Expr pick(const Expr& x, const IndexPlaceholder& idx, int dim = 0);
Expr lookup(const Expr& table, const IndexPlaceholder& ids);
Expr lookup(Graph& g, Parameter& table, const IndexPlaceholder& ids);

/// What compile() planned. Byte counts include 64-byte alignment.
struct StaticPlanStats {
  uint32_t recorded_nodes = 0;   // every node of the recorded graph
  uint32_t forward_nodes = 0;    // computed nodes the outputs and the loss need
  uint32_t backward_nodes = 0;   // nodes whose backward runs
  size_t buffer_bytes = 0;       // the one buffer of values and gradients, with reuse
  size_t unshared_bytes = 0;     // what those values and gradients would take without reuse
  size_t scratch_bytes = 0;      // op scratch memory held from the warm-up run
  uint32_t deferred_products = 0;  // matrix-vector products whose rank-1 weight gradient
                                   // backward sums per parameter at the end, as eager does
};

/// A graph recorded once and run many times; see the file comment.
class StaticGraph {
 public:
  explicit StaticGraph(Device device = Device::cpu());
  ~StaticGraph();
  StaticGraph(const StaticGraph&) = delete;
  StaticGraph& operator=(const StaticGraph&) = delete;

  /// The graph to record into. It computes nothing: Expr::value() and Graph::backward() on it
  /// throw (read results with StaticGraph::value()). Shapes are checked as nodes are added.
  /// Seed it (graph().set_seed) before compile() for reproducible dropout.
  Graph& graph();

  // ---- Recording ----
  /// An input of a fixed shape (batch size included), fed anew each run; zero until fed.
  Expr placeholder(const std::string& name, const Shape& shape, DType t = DType::f32);
  /// n integer ids fed anew each run; zero until fed.
  IndexPlaceholder index_placeholder(const std::string& name, int64_t n = 1);

  // ---- Planning ----
  /// Plans a run computing `outputs` and, when given, the one-element `loss` that backward()
  /// starts from. Nodes neither needs are dropped. Compiling again replaces the plan (after
  /// recording more nodes, say). Throws ShapeError if the loss is not one element.
  void compile(const std::vector<Expr>& outputs, const Expr& loss = Expr());
  bool compiled() const;
  const StaticPlanStats& stats() const;
  /// Device memory the plan holds now: its buffer plus op scratch. Constant after compile().
  size_t held_bytes() const;

  // ---- Feeding ----
  /// Copies `value` into the placeholder. Its shape must be the declared one (batch included),
  /// else ShapeError naming the placeholder and both shapes; another dtype is converted.
  void feed(const std::string& name, const Tensor& value);
  void feed(const std::string& name, const std::vector<float>& values);
  void feed(const Expr& placeholder, const Tensor& value);
  /// Sets an index placeholder: exactly size() ids, each in range for every op that reads it
  /// (else ShapeError / IndexError naming the placeholder).
  void feed_indices(const std::string& name, const std::vector<int32_t>& ids);
  void feed_index(const std::string& name, int32_t id);
  /// The same through the handle (no name lookup): n must be p.size().
  void feed_indices(const IndexPlaceholder& p, const int32_t* ids, int64_t n);
  void feed_index(const IndexPlaceholder& p, int32_t id) { feed_indices(p, &id, 1); }

  // ---- Running ----
  /// Computes every output and the loss.
  void forward();
  /// Computes only what these outputs (each one passed to compile()) need.
  void forward(const std::vector<Expr>& outputs);
  /// Backpropagates from the loss of the last forward() (which must have computed it):
  /// gradients accumulate into the parameters exactly as Graph::backward does. Once per
  /// forward(): the memory of values backward has read is reused afterwards.
  void backward();

  /// An output (or the loss, or a placeholder) of the last forward(), as a view of the plan's
  /// memory valid until the next forward().
  Tensor value(const Expr& e) const;
  double item(const Expr& e) const { return value(e).item(); }
  /// The gradient of a leaf input created with requires_grad, after backward().
  Tensor grad(const Expr& e) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace flare
