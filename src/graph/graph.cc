#include "flare/graph.h"

#include <cxxabi.h>
#include <dlfcn.h>
#include <execinfo.h>

#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>

#include "flare/gradient_buffer.h"
#include "ops/deferred_ger.h"
#include "ops/registry.h"

namespace flare {
namespace {
std::atomic<uint64_t> g_seed{42};
std::atomic<uint64_t> g_graph_counter{0};
std::atomic<bool> g_detect_anomaly{false};
std::atomic<uint64_t> g_epoch{0};
}  // namespace

void manual_seed(uint64_t s) {
  g_seed = s;
  g_graph_counter = 0;
}
uint64_t seed() { return g_seed; }
void set_detect_anomaly(bool on) { g_detect_anomaly = on; }
bool detect_anomaly() { return g_detect_anomaly; }

// ---- Expr ----

const Node& Expr::node() const { return g_->node(id_); }

Tensor Expr::value() const {
  if (!node().value) g_->compute();
  const Node& n = node();
  if (n.op == OpId::Param && n.attrs.param) n.attrs.param->settle();
  return Tensor::view(n.value, n.shape, n.dtype, g_->device());
}

Tensor Expr::grad() const {
  const Node& n = node();
  if (!n.grad)
    throw Error(std::string("grad: node ") + std::to_string(id_) + " (" + op_name(n.op) +
                ") has no gradient; call backward() on a loss that depends on it, and create "
                "inputs with requires_grad to get theirs");
  return Tensor::view(n.grad, n.shape, n.dtype, g_->device());
}

void Expr::backward() const { g_->backward(*this); }

// ---- Graph ----

Graph::Graph(Device device)
    : device_(device),
      be_(&flare::backend(device)),
      arena_(*be_),
      host_arena_(flare::backend(Device::cpu()), 64 << 10),
      // Each graph gets its own stream: graphs built in the same order get the same numbers.
      seed_(g_seed.load() + 0x9e3779b97f4a7c15ULL * (g_graph_counter++)),
      check_finite_(g_detect_anomaly.load()),
      epoch_(++g_epoch) {
  nodes_.reserve(1024);
  arg_ids_.reserve(2048);
}

Graph::~Graph() = default;

void Graph::set_seed(uint64_t s) {
  seed_ = s;
  rng_offset_ = 0;
}

void Graph::clear() {
  pending_ = 0;
  epoch_ = ++g_epoch;
  nodes_.clear();
  arg_ids_.clear();
  arena_.reset();
  host_arena_.reset();
  sites_.clear();
  labels_.clear();
}

Expr Graph::add_leaf(OpId op, const Shape& s, DType t, bool needs_grad, const Attrs& a) {
  uint32_t id = uint32_t(nodes_.size());
  nodes_.emplace_back(op, t, needs_grad, uint32_t(arg_ids_.size()), 0u, s, a);
  if (check_finite_) record_site(id);
  return Expr(this, id);
}

Expr Graph::input(const Tensor& value, bool requires_grad) {
  Expr e = add_leaf(OpId::Input, value.shape(), value.dtype(), requires_grad, {});
  Node& n = nodes_[e.id()];
  n.value = alloc(value.bytes());
  Tensor::view(n.value, n.shape, n.dtype, device_).copy_from(value);
  return e;
}

Expr Graph::input(const Shape& shape, const std::vector<double>& values, DType t, bool requires_grad) {
  if (int64_t(values.size()) != shape.total())
    throw ShapeError("input: " + std::to_string(values.size()) + " values for shape " + shape.str() +
                     " (needs " + std::to_string(shape.total()) + ")");
  Expr e = add_leaf(OpId::Input, shape, t, requires_grad, {});
  Node& n = nodes_[e.id()];
  n.value = alloc(size_t(shape.total()) * dtype_size(t));
  if (device_.is_cpu()) {
    dispatch_dtype(t, [&](auto z) {
      using T = decltype(z);
      T* p = static_cast<T*>(n.value);
      for (size_t i = 0; i < values.size(); ++i) p[i] = T(values[i]);
    });
  } else {
    Tensor::view(n.value, shape, t, device_).copy_from(Tensor::from(shape, values, t));
  }
  return e;
}

Expr Graph::input(const Shape& shape, const std::vector<float>& values, bool requires_grad) {
  if (int64_t(values.size()) != shape.total())
    throw ShapeError("input: " + std::to_string(values.size()) + " values for shape " + shape.str() +
                     " (needs " + std::to_string(shape.total()) + ")");
  Expr e = add_leaf(OpId::Input, shape, DType::f32, requires_grad, {});
  Node& n = nodes_[e.id()];
  n.value = alloc(values.size() * sizeof(float));
  be_->from_host(n.value, values.data(), values.size() * sizeof(float));
  return e;
}

Expr Graph::input(const Shape& shape, std::initializer_list<float> values, bool requires_grad) {
  return input(shape, std::vector<float>(values), requires_grad);
}

Expr Graph::scalar(double value, DType t) { return constant(Shape{}, value, t); }

Expr Graph::constant(const Shape& shape, double value, DType t) {
  Expr e = add_leaf(OpId::Input, shape, t, false, {});
  Node& n = nodes_[e.id()];
  n.value = alloc(size_t(shape.total()) * dtype_size(t));
  be_->fill(t, n.value, shape.total(), value);
  return e;
}

Expr Graph::param(Parameter& p) {
  if (p.device() != device_)
    throw Error("parameter " + p.name() + " is on " + p.device().str() + " but the graph is on " +
                device_.str() + "; move the model with to(device)");
  // The node's gradient is the parameter's own: backward accumulates straight into it.
  // With a GradientBuffer it is the buffer's copy instead, private to this graph's thread.
  void* grad = !p.trainable() ? nullptr : grads_ ? grads_->grad(p).data() : p.grad().data();
  Attrs a;
  a.param = &p;
  Expr e = add_leaf(OpId::Param, p.shape(), p.dtype(), p.trainable(), a);
  Node& n = nodes_[e.id()];
  // Not settled here: a lookup settles the rows it reads, any other op the whole table.
  n.value = p.stored_value().data();
  n.grad = grad;
  return e;
}

// A table whose lookups record their rows is an argument of another op: its gradient may now
// be nonzero anywhere. Row-gradient tables fall back to dense updates; a sparse one cannot.
void Graph::used_whole(Parameter& p, OpId op) {
  if (p.sparse())
    throw Error(std::string(op_name(op)) + ": parameter " + p.name() +
                " has sparse row updates (set_sparse), so its gradient may only come from lookup; "
                "use the table through lookup(), or make it dense");
  p.note_used_whole();
}

Expr Graph::add(OpId op, const Expr* args, uint32_t nargs, const Attrs& attrs) {
  const ops::OpDef& d = ops::def(op);
  // Reserve first so that pointers to argument nodes stay valid when the new node is appended.
  if (nodes_.size() == nodes_.capacity()) nodes_.reserve(nodes_.capacity() * 2 + 16);
  Node* inline_ptrs[kInlineArgs];
  Node** ptrs = inline_ptrs;
  if (nargs > kInlineArgs) {
    scratch_args_.resize(nargs);
    ptrs = scratch_args_.data();
  }
  bool needs_grad = false;
  DType t = DType::f32;
  for (uint32_t i = 0; i < nargs; ++i) {
    if (args[i].g_ != this)
      throw Error(std::string(op_name(op)) + ": argument " + std::to_string(i) +
                  (args[i].g_ ? " belongs to another graph" : " is an empty Expr"));
    Node* a = &nodes_[args[i].id_];
    needs_grad |= a->needs_grad;
    ptrs[i] = a;
    if (a->op == OpId::Param && a->attrs.param && !(op == OpId::Lookup && i == 0)) {
      Parameter& p = *a->attrs.param;
      p.settle();  // this op reads the whole table: apply any deferred row steps first
      if (a->needs_grad && p.tracks_rows()) used_whole(p, op);
    }
  }
  if (nargs) t = ptrs[0]->dtype;
  ops::ShapeArgs sa{op, ptrs, int(nargs), attrs, t};
  if (int(nargs) < d.min_args || (d.max_args >= 0 && int(nargs) > d.max_args))
    sa.fail("takes " + std::to_string(d.min_args) +
            (d.max_args == d.min_args ? "" : d.max_args < 0 ? " or more" : " to " + std::to_string(d.max_args)) +
            " arguments, got " + std::to_string(nargs));
  for (uint32_t i = 1; i < nargs; ++i)
    if (ptrs[i]->dtype != t)
      sa.fail(std::string("argument types differ (") + dtype_name(t) + " vs " + dtype_name(ptrs[i]->dtype) + ")");
  const Shape s = d.shape(sa);

  const uint32_t id = uint32_t(nodes_.size());
  const uint32_t begin = uint32_t(arg_ids_.size());
  for (uint32_t i = 0; i < nargs; ++i) arg_ids_.push_back(args[i].id_);
  Node& n = nodes_.emplace_back(op, t, needs_grad && d.backward != nullptr, begin, nargs, s, attrs);
  if (check_finite_) record_site(id);
  if (executor_) {  // lazy: computed on demand
    // The executor runs this lookup later, perhaps batched with other examples' lookups; the
    // rows it will read are settled now, while the node is known to read the table itself.
    if (op == OpId::Lookup && ptrs[0]->op == OpId::Param && ptrs[0]->attrs.param)
      ptrs[0]->attrs.param->settle_rows(attrs.idx, attrs.n_idx);
    return Expr(this, id);
  }
  if (debug_checks_) {
    run_forward_checked(n);
    return Expr(this, id);
  }
  n.value = alloc(size_t(s.total()) * dtype_size(t));
  d.forward(ops::Ctx{*be_, this, n, ptrs, int(nargs)});
  if (check_finite_) check_node_finite(n, false);
  return Expr(this, id);
}

Node** Graph::arg_ptrs(const Node& n, Node** buf) {
  Node** ptrs = buf;
  if (n.nargs > kInlineArgs) {
    scratch_args_.resize(n.nargs);
    ptrs = scratch_args_.data();
  }
  const uint32_t* ids = args(n);
  for (uint32_t i = 0; i < n.nargs; ++i) ptrs[i] = &nodes_[ids[i]];
  return ptrs;
}

void Graph::set_executor(Executor* ex) {
  compute();  // nodes recorded so far run under the mode they were added in
  executor_ = ex;
  pending_ = size();
}

void Graph::compute() {
  if (!executor_ || pending_ >= size()) return;
  uint32_t begin = pending_;
  pending_ = size();
  executor_->forward(*this, begin, size());
}

void Graph::forward_node(uint32_t id) {
  Node& n = nodes_[id];
  if (!n.value) n.value = alloc(size_t(n.shape.total()) * dtype_size(n.dtype));
  run_forward(n);
}

void Graph::backward_node(uint32_t id) { run_backward(nodes_[id]); }

void Graph::run_forward(Node& n) {
  Node* buf[kInlineArgs];
  ops::def(n.op).forward(ops::Ctx{*be_, this, n, arg_ptrs(n, buf), int(n.nargs)});
  if (check_finite_) check_node_finite(n, false);
}

void Graph::run_forward_checked(Node& n) {
  const int64_t total = n.shape.total(), guard = 16;
  n.value = alloc(size_t(total + guard) * dtype_size(n.dtype));
  const double nan = std::numeric_limits<double>::quiet_NaN();
  be_->fill(n.dtype, n.value, total + guard, nan);
  run_forward(n);
  Tensor all = Tensor::view(n.value, Shape{total + guard}, n.dtype, device_);
  std::vector<double> v = all.to_vector();
  for (int64_t i = 0; i < total + guard; ++i) {
    bool written = !std::isnan(v[size_t(i)]);
    if (i >= total && written)
      throw Error(std::string(op_name(n.op)) + ": forward wrote past the " + std::to_string(total) +
                  " elements of its shape " + n.shape.str());
    if (i < total && !written && !check_finite_)
      throw Error(std::string(op_name(n.op)) + ": forward left element " + std::to_string(i) +
                  " of " + n.shape.str() + " unwritten (or produced NaN)");
  }
}

void Graph::run_backward(Node& n) {
  Node* buf[kInlineArgs];
  Node** ptrs = arg_ptrs(n, buf);
  ops::def(n.op).backward(ops::Ctx{*be_, this, n, ptrs, int(n.nargs)});
  if (check_finite_)
    for (uint32_t i = 0; i < n.nargs; ++i)
      if (ptrs[i]->needs_grad) check_node_finite(*ptrs[i], true);
}

void Graph::check_node_finite(const Node& n, bool grad) const {
  const void* p = grad ? n.grad : n.value;
  if (!p || be_->all_finite(n.dtype, p, n.shape.total())) return;
  std::string msg = std::string("anomaly: non-finite ") + (grad ? "gradient of" : "value from") +
                    " node " + std::to_string(&n - nodes_.data()) + " (" + op_name(n.op) + ", shape " +
                    n.shape.str() + ")";
  if (n.nargs) {
    msg += "; inputs:";
    const uint32_t* ids = args(n);
    for (uint32_t i = 0; i < n.nargs; ++i)
      msg += " " + std::string(op_name(nodes_[ids[i]].op)) + "#" + std::to_string(ids[i]) + "=" +
             nodes_[ids[i]].shape.str();
  }
  if (n.op == OpId::Param && n.attrs.param) msg += "; parameter " + n.attrs.param->name();
  const std::string site = creation_site(uint32_t(&n - nodes_.data()));
  if (!site.empty()) msg += "; node created " + site;
  throw AnomalyError(msg);
}

void Graph::record_site(uint32_t id) {
  if (sites_.size() <= id) sites_.resize(id + 1);
  Site& s = sites_[id];
  if (labels_.empty() || labels_.back() != location_) labels_.push_back(location_);
  s.label = uint32_t(labels_.size() - 1);
  // Raw return addresses only (a few microseconds); symbols are looked up if a report is made.
  s.depth = backtrace(s.frames, Site::kFrames);
}

std::string Graph::creation_site(uint32_t id) const {
  if (id >= sites_.size() || sites_[id].depth == 0) return "";
  const Site& s = sites_[id];
  std::string out = labels_[s.label].empty() ? "at:" : "in " + labels_[s.label] + ", at:";
  // Frame 0 is record_site itself.
  for (int k = 1; k < s.depth; ++k) {
    Dl_info info{};
    const uintptr_t pc = reinterpret_cast<uintptr_t>(s.frames[k]);
    char buf[64];
    out += "\n    #" + std::to_string(k) + " ";
    if (!dladdr(s.frames[k], &info) || !info.dli_fname) {
      std::snprintf(buf, sizeof buf, "0x%zx", size_t(pc));
      out += buf;
      continue;
    }
    out += info.dli_fname;
    if (info.dli_sname) {
      int status = 0;
      char* name = abi::__cxa_demangle(info.dli_sname, nullptr, nullptr, &status);
      std::snprintf(buf, sizeof buf, "+0x%zx)", size_t(pc - reinterpret_cast<uintptr_t>(info.dli_saddr)));
      out += std::string("(") + (status == 0 && name ? name : info.dli_sname) + buf;
      std::free(name);
    } else {
      // Return addresses point after the call; one byte back is inside it (what addr2line wants).
      std::snprintf(buf, sizeof buf, "+0x%zx", size_t(pc - reinterpret_cast<uintptr_t>(info.dli_fbase) - 1));
      out += buf;
    }
  }
  return out;
}

void Graph::set_gradients(GradientBuffer* buf) {
  if (!nodes_.empty())
    throw Error("set_gradients: the graph already has " + std::to_string(nodes_.size()) +
                " nodes; attach the buffer before building (or after clear())");
  grads_ = buf;
}

void Graph::mark_rows(Parameter& p, const int32_t* ids, int64_t n) {
  if (grads_)
    grads_->mark_rows(p, ids, n);
  else
    p.mark_rows(ids, n);
}

void Graph::backward(const Expr& loss) {
  if (loss.g_ != this) throw Error("backward: the loss belongs to another graph");
  const uint32_t root = loss.id();
  Node& ln = nodes_[root];
  if (ln.shape.total() != 1) {
    if (ln.shape.size() == 1)
      throw ShapeError("backward: the loss must be a scalar, got a batch of " +
                       std::to_string(ln.shape.batch()) + " scalars (" + ln.shape.str() +
                       "); reduce it with sum_batch() or mean_batch() first");
    throw ShapeError("backward: the loss must be a scalar, got shape " + ln.shape.str() +
                     "; reduce it with sum() or mean() first");
  }
  if (!ln.needs_grad) return;  // nothing trainable behind the loss
  compute();

  // Mark the nodes the loss depends on that need a gradient; only those are visited.
  reach_.assign(root + 1, 0);
  reach_[root] = 1;
  size_t grad_bytes = 0;
  for (uint32_t i = root + 1; i-- > 0;) {
    if (!reach_[i]) continue;
    Node& n = nodes_[i];
    if (n.op != OpId::Param) grad_bytes += (size_t(n.shape.total()) * dtype_size(n.dtype) + 63) & ~size_t(63);
    const uint32_t* ids = args(n);
    for (uint32_t k = 0; k < n.nargs; ++k)
      if (nodes_[ids[k]].needs_grad) reach_[ids[k]] = 1;
  }
  // One zeroed block holds every gradient (parameters keep their own).
  char* block = static_cast<char*>(alloc(grad_bytes));
  be_->fill(DType::f32, block, int64_t(grad_bytes / 4), 0.0);
  for (uint32_t i = 0; i <= root; ++i) {
    Node& n = nodes_[i];
    if (!reach_[i]) {
      if (n.op != OpId::Param) n.grad = nullptr;
      continue;
    }
    if (n.op == OpId::Param) continue;
    n.grad = block;
    block += (size_t(n.shape.total()) * dtype_size(n.dtype) + 63) & ~size_t(63);
  }
  be_->fill(ln.dtype, ln.grad, 1, 1.0);
  if (executor_) {
    executor_->backward(*this, root, reach_);
    return;
  }
  // Weight gradients of matrix-vector nodes are summed per parameter at the end, in one pass
  // over each (bit-identical; see ops/deferred_ger.h). Not under anomaly checks, which look at
  // every gradient as soon as its node has run.
  ops::DeferredGerScope deferred(*be_, !check_finite_);
  for (uint32_t i = root + 1; i-- > 0;) {
    Node& n = nodes_[i];
    if (!reach_[i] || n.nargs == 0) continue;
    deferred.before_backward(n, nodes_.data(), args(n));
    run_backward(n);
  }
  deferred.flush();
}

}  // namespace flare
