#pragma once
/// Computation graphs and Expr handles.
///
/// A Graph records nodes in topological order; each node's value is computed as soon as the node
/// is added (eager mode, as in the original flare and PyTorch), so `(x + y).value()` is there at
/// once. backward() from a scalar accumulates gradients into every node that needs one and into
/// the parameters the graph used. clear() drops every node but keeps the memory for the next
/// example, so a training loop allocates nothing from the system after its first example.
///
///     flare::Graph g;
///     flare::Expr x = g.input(flare::Shape{2}, {2, 3});
///     flare::Expr y = g.input(flare::Shape{2}, {3, 4});
///     std::cout << (x + y).value();   // tensor([5, 7], shape=[2], float32)
#include <cstdint>
#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

#include "flare/backend.h"
#include "flare/detail/arena.h"
#include "flare/parameter.h"
#include "flare/tensor.h"

namespace flare {

/// Every op, from the list in ops.def.
enum class OpId : uint16_t {
#define FLARE_OP(E, N) E,
#include "flare/ops.def"
#undef FLARE_OP
  Count
};
const char* op_name(OpId op);
constexpr int kOpCount = int(OpId::Count);

/// Op attributes: small integers (dims, bounds), scalars, an index list (host memory owned by
/// the graph), a parameter (Param, Lookup) and per-node scratch memory (a dropout mask).
struct Attrs {
  int64_t i[6] = {0, 0, 0, 0, 0, 0};
  double f[2] = {0, 0};
  const int32_t* idx = nullptr;
  int64_t n_idx = 0;
  Parameter* param = nullptr;
  void* aux = nullptr;
};

/// The attributes of ops that take none (shared, so that building a node copies them once).
inline const Attrs kNoAttrs{};

/// One node: its op, arguments (indices into the graph), shape, value and gradient memory.
struct Node {
  Node() = default;
  Node(OpId o, DType t, bool ng, uint32_t begin, uint32_t n, const Shape& s, const Attrs& a)
      : op(o), dtype(t), needs_grad(ng), arg_begin(begin), nargs(n), shape(s), attrs(a) {}
  OpId op = OpId::Input;
  DType dtype = DType::f32;
  bool needs_grad = false;
  uint32_t arg_begin = 0, nargs = 0;
  Shape shape;
  void* value = nullptr;
  void* grad = nullptr;
  Attrs attrs;
};

class Graph;
class GradientBuffer;

/// Runs the nodes a lazy graph has recorded. The auto-batcher is one; without an executor a
/// graph is eager and computes each node as it is added.
class Executor {
 public:
  virtual ~Executor() = default;
  /// Computes the values of nodes [begin, end), whose value pointers are null on entry.
  virtual void forward(Graph& g, uint32_t begin, uint32_t end) = 0;
  /// Propagates gradients from `root`. On entry every node with reach[i] set has zeroed gradient
  /// memory (parameters: their own), the root's gradient is 1, and values are computed.
  virtual void backward(Graph& g, uint32_t root, const std::vector<uint8_t>& reach) = 0;
  /// True when the executor merges the nodes of many examples into batched kernels. Models
  /// then prefer one node per example and step (which it batches across examples) over their
  /// eager shortcuts that batch within one example (nn::run's whole-sequence input projection).
  virtual bool batches_examples() const { return false; }
};

/// A cheap handle to a node of a graph (a pointer and an index); copy it freely. It stays valid
/// until the graph is cleared or destroyed.
class Expr {
 public:
  Expr() = default;
  Expr(Graph* g, uint32_t id) : g_(g), id_(id) {}

  bool valid() const { return g_ != nullptr; }
  Graph& graph() const { return *g_; }
  uint32_t id() const { return id_; }
  const Node& node() const;
  const Shape& shape() const { return node().shape; }
  DType dtype() const { return node().dtype; }

  /// The node's value (a view into the graph's memory).
  Tensor value() const;
  /// The gradient of the last backward() with respect to this node; throws if it has none.
  Tensor grad() const;
  /// The single value of a one-element node.
  double item() const { return value().item(); }
  std::vector<double> to_vector() const { return value().to_vector(); }
  /// graph().backward(*this)
  void backward() const;

 private:
  friend class Graph;
  Graph* g_ = nullptr;
  uint32_t id_ = 0;
};

class Graph {
 public:
  explicit Graph(Device device = Device::cpu());
  ~Graph();
  Graph(const Graph&) = delete;
  Graph& operator=(const Graph&) = delete;

  Device device() const { return device_; }
  Backend& backend() const { return *be_; }

  // ---- Leaves ----
  /// A copy of `value` as an input; with requires_grad, backward() computes its gradient.
  Expr input(const Tensor& value, bool requires_grad = false);
  /// An input of type float32 from values (batch outermost).
  Expr input(const Shape& shape, const std::vector<float>& values, bool requires_grad = false);
  Expr input(const Shape& shape, std::initializer_list<float> values, bool requires_grad = false);
  Expr input(const Shape& shape, const std::vector<double>& values, DType t, bool requires_grad = false);
  /// A one-element constant.
  Expr scalar(double value, DType t = DType::f32);
  /// A constant filled with `value`.
  Expr constant(const Shape& shape, double value, DType t = DType::f32);
  /// The parameter's value (no copy); backward() accumulates into its gradient when trainable.
  Expr param(Parameter& p);

  // ---- Backward ----
  /// Backpropagates from a one-element node: gradients accumulate into every parameter used.
  void backward(const Expr& loss);

  // ---- Lifetime ----
  /// Drops every node; keeps the memory for the next graph. Invalidates all Exprs.
  void clear();
  uint32_t size() const { return uint32_t(nodes_.size()); }
  /// A number no other graph, and no earlier life of this one, has had: it changes at clear().
  /// Executors that keep per-graph state use it to tell a rebuilt (or another) graph from the
  /// one they ran, since node ids and even addresses repeat.
  uint64_t epoch() const { return epoch_; }
  /// Device memory held by the graph's arena, and in use now (bytes).
  size_t arena_capacity() const { return arena_.capacity(); }

  // ---- Randomness ----
  /// Seeds this graph's random stream (dropout, noise). Graphs start from flare::seed().
  void set_seed(uint64_t seed);
  /// Reserves n numbers of the stream and returns their first counter.
  uint64_t take_random(uint64_t n) { uint64_t o = rng_offset_; rng_offset_ += n; return o; }
  uint64_t seed() const { return seed_; }

  // ---- Lazy execution ----
  /// With an executor, nodes are recorded (shapes still checked at once) and computed on demand:
  /// at value(), item() or backward(). nullptr returns to eager mode. The graph does not own it.
  void set_executor(Executor* ex);
  Executor* executor() const { return executor_; }
  /// True when the executor merges nodes across examples (Executor::batches_examples()).
  bool batches_examples() const { return executor_ && executor_->batches_examples(); }
  /// Computes every recorded node that has no value yet.
  void compute();
  /// Runs one node's forward / backward as the eager engine would (executors use these for
  /// nodes they do not batch). forward_node allocates the value when it has none.
  void forward_node(uint32_t id);
  void backward_node(uint32_t id);

  // ---- Checks ----
  /// Anomaly detection: check every value and gradient as it is computed and throw
  /// flare::AnomalyError at the first non-finite one. Off by default.
  void set_check_finite(bool on) { check_finite_ = on; }
  bool check_finite() const { return check_finite_; }
  /// A label for the part of the model now being built ("encoder/layer1"; empty by default).
  /// While anomaly detection is on, every new node records the label and its call stack, and
  /// an AnomalyError names both; with the check off nothing is recorded.
  void set_location(std::string label) { location_ = std::move(label); }
  const std::string& location() const { return location_; }
  /// Where node `id` was created (label and stack frames, one per line), or "" when it was
  /// created with anomaly detection off. Frames print as `module(symbol+0xN)`, or as
  /// `module+0xN` for code without exported symbols: `addr2line -fCe module 0xN` resolves those.
  std::string creation_site(uint32_t id) const;
  /// Test aid: fill each new value with NaN before forward and guard the memory after it, then
  /// throw if forward left an element unwritten or wrote past the shape its rule gave.
  void set_debug_checks(bool on) { debug_checks_ = on; }

  // ---- Concurrent training ----
  /// Parameter gradients go to `buf` instead of Parameter::grad(), so that threads with a graph
  /// and a buffer each can train one model (see flare/gradient_buffer.h); nullptr restores the
  /// default. Only while the graph has no nodes; clear() keeps it. The graph does not own it.
  void set_gradients(GradientBuffer* buf);
  GradientBuffer* gradients() const { return grads_; }
  /// Records that rows `ids` of parameter p got gradient, when p tracks rows (sparse or row
  /// gradients; in the buffer when one is set).
  void mark_rows(Parameter& p, const int32_t* ids, int64_t n);

  // ---- For op implementations ----
  /// Adds a node: checks shapes (throwing at the caller's line), allocates, runs forward.
  Expr add(OpId op, const Expr* args, uint32_t nargs, const Attrs& attrs = kNoAttrs);
  Expr add(OpId op, std::initializer_list<Expr> args, const Attrs& attrs = kNoAttrs) {
    return add(op, args.begin(), uint32_t(args.size()), attrs);
  }
  Node& node(uint32_t id) { return nodes_[id]; }
  const Node& node(uint32_t id) const { return nodes_[id]; }
  const uint32_t* args(const Node& n) const { return arg_ids_.data() + n.arg_begin; }
  /// Device memory valid until clear().
  void* alloc(size_t bytes) { return arena_.alloc(bytes); }
  /// Host memory for index lists, valid until clear().
  int32_t* alloc_indices(size_t n) { return static_cast<int32_t*>(host_arena_.alloc(n * sizeof(int32_t))); }

 private:
  Expr add_leaf(OpId op, const Shape& s, DType t, bool needs_grad, const Attrs& a);
  static void used_whole(Parameter& p, OpId op);
  /// Pointers to n's argument nodes, in `buf` (room for kInlineArgs) or in scratch_args_.
  static constexpr uint32_t kInlineArgs = 8;
  Node** arg_ptrs(const Node& n, Node** buf);
  void run_forward(Node& n);
  void run_backward(Node& n);
  void check_node_finite(const Node& n, bool grad) const;
  void record_site(uint32_t id);
  void run_forward_checked(Node& n);

  Device device_;
  Backend* be_;
  detail::Arena arena_;
  detail::Arena host_arena_;
  std::vector<Node> nodes_;
  std::vector<uint32_t> arg_ids_;
  std::vector<Node*> scratch_args_;
  std::vector<uint8_t> reach_;
  uint64_t seed_;
  uint64_t rng_offset_ = 0;
  bool check_finite_;
  bool debug_checks_ = false;
  Executor* executor_ = nullptr;
  uint32_t pending_ = 0;  // first node without a value (lazy mode)
  GradientBuffer* grads_ = nullptr;
  // Creation sites, recorded only under anomaly detection: per node, an index into labels_
  // and the return addresses of its creation (sites_[id] may be missing or empty).
  struct Site {
    static constexpr int kFrames = 10;
    uint32_t label = 0;
    int depth = 0;
    void* frames[kFrames];
  };
  std::string location_;
  std::vector<std::string> labels_;
  std::vector<Site> sites_;
  uint64_t epoch_ = 0;
};

/// The seed new graphs and initialisers start from (default 42); set it for reproducible runs.
void manual_seed(uint64_t seed);
uint64_t seed();
/// Anomaly detection for every graph created afterwards (PyTorch's detect_anomaly).
void set_detect_anomaly(bool on);
bool detect_anomaly();

}  // namespace flare
