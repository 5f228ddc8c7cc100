// StaticGraph: recording with placeholders, feeding, and reading results. Planning is in
// static_plan.cc, running in static_run.cc.
#include <algorithm>

#include "exec/static_impl.h"

namespace flare {

namespace exec {
void Recorder::forward(Graph&, uint32_t, uint32_t) {
  throw Error("StaticGraph: a recorded graph computes nothing by itself; call compile() and "
              "forward() on the StaticGraph and read outputs with StaticGraph::value()");
}
void Recorder::backward(Graph&, uint32_t, const std::vector<uint8_t>&) {
  throw Error("StaticGraph: call StaticGraph::backward(), not Graph::backward(), on a recorded graph");
}
}  // namespace exec

StaticGraph::Impl::Impl(Device d) : g(d), be(g.backend()), scratch(d) { g.set_executor(&recorder); }

StaticGraph::Impl::~Impl() { release_plan(); }

StaticGraph::Impl::Slot& StaticGraph::Impl::slot(const std::string& name, const char* what) {
  auto it = by_name.find(name);
  if (it == by_name.end()) {
    std::string known;
    for (const Slot& s : slots) known += (known.empty() ? "'" : ", '") + s.name + "'";
    throw Error(std::string(what) + ": no placeholder named '" + name + "' (placeholders: " +
                (known.empty() ? "none" : known) + ")");
  }
  return slots[it->second];
}

// The largest id each index placeholder may hold: the smallest bound any op reading it sets.
void StaticGraph::Impl::refresh_bounds() {
  if (bounds_for == g.size()) return;
  for (Slot& s : slots) {
    s.bound = std::numeric_limits<int64_t>::max();
    s.bound_by.clear();
  }
  for (uint32_t i = 0; i < g.size(); ++i) {
    const Node& n = g.node(i);
    if (!n.attrs.idx || n.nargs == 0) continue;
    for (Slot& s : slots) {
      if (!s.is_index || s.ids != n.attrs.idx) continue;
      const Shape& x = g.node(g.args(n)[0]).shape;
      int64_t bound;
      if (n.op == OpId::Pick) {
        int d = x.axis(int(n.attrs.i[0]), "pick");
        bound = x.nd() == 0 ? 1 : x.dim(d);
      } else {
        bound = x.nd() == 0 ? 1 : x.dim(0);  // pick_neg_log_softmax's classes, lookup's rows
      }
      if (bound < s.bound) {
        s.bound = bound;
        s.bound_by = std::string(op_name(n.op)) + " of " + x.str();
      }
    }
  }
  bounds_for = g.size();
}

StaticGraph::StaticGraph(Device device) : impl_(std::make_unique<Impl>(device)) {}
StaticGraph::~StaticGraph() = default;

Graph& StaticGraph::graph() { return impl_->g; }
bool StaticGraph::compiled() const { return impl_->compiled; }
const StaticPlanStats& StaticGraph::stats() const { return impl_->stats; }
size_t StaticGraph::held_bytes() const { return impl_->buffer_size + impl_->scratch.arena_capacity(); }

// ---- Recording ----

Expr StaticGraph::placeholder(const std::string& name, const Shape& shape, DType t) {
  Impl& m = *impl_;
  if (m.by_name.count(name)) throw Error("placeholder: the name '" + name + "' is already taken");
  // An input node whose memory the graph keeps: feeding overwrites it in place.
  Expr e = m.g.constant(shape, 0.0, t);
  m.slots.emplace_back();
  Impl::Slot& s = m.slots.back();
  s.name = name;
  s.node = e.id();
  m.by_name[name] = m.slots.size() - 1;
  m.by_node[e.id()] = m.slots.size() - 1;
  return e;
}

IndexPlaceholder StaticGraph::index_placeholder(const std::string& name, int64_t n) {
  Impl& m = *impl_;
  if (m.by_name.count(name)) throw Error("index_placeholder: the name '" + name + "' is already taken");
  if (n < 1) throw Error("index_placeholder '" + name + "': needs at least one id, got " + std::to_string(n));
  m.slots.emplace_back();
  Impl::Slot& s = m.slots.back();
  s.name = name;
  s.is_index = true;
  s.n = n;
  s.ids = m.g.alloc_indices(size_t(n));
  std::fill(s.ids, s.ids + n, 0);
  m.by_name[name] = m.slots.size() - 1;
  m.bounds_for = 0;
  IndexPlaceholder p;
  p.g_ = &m.g;
  p.ids_ = s.ids;
  p.n_ = n;
  p.name_ = &s.name;
  p.slot_ = m.slots.size() - 1;
  return p;
}

// ---- Feeding ----

void StaticGraph::feed(const std::string& name, const Tensor& value) {
  Impl::Slot& s = impl_->slot(name, "feed");
  if (s.is_index) throw Error("feed: placeholder '" + name + "' holds ids; use feed_indices()");
  feed(Expr(&impl_->g, s.node), value);
}

void StaticGraph::feed(const Expr& placeholder, const Tensor& value) {
  Impl& m = *impl_;
  auto it = placeholder.valid() && &placeholder.graph() == &m.g ? m.by_node.find(placeholder.id()) : m.by_node.end();
  if (it == m.by_node.end()) throw Error("feed: the expression is not a placeholder of this static graph");
  Impl::Slot& s = m.slots[it->second];
  const Node& n = m.g.node(s.node);
  if (value.shape() != n.shape)
    throw ShapeError("feed: placeholder '" + s.name + "' is declared as " + n.shape.str() +
                     " but was fed " + value.shape().str());
  Tensor::view(n.value, n.shape, n.dtype, m.g.device()).copy_from(value);
  m.fed_after = s.name.c_str();
}

void StaticGraph::feed(const std::string& name, const std::vector<float>& values) {
  Impl& m = *impl_;
  Impl::Slot& s = m.slot(name, "feed");
  if (s.is_index) throw Error("feed: placeholder '" + name + "' holds ids; use feed_indices()");
  const Node& n = m.g.node(s.node);
  if (int64_t(values.size()) != n.shape.total())
    throw ShapeError("feed: placeholder '" + name + "' is declared as " + n.shape.str() + " (" +
                     std::to_string(n.shape.total()) + " values) but was fed " +
                     std::to_string(values.size()) + " values");
  if (n.dtype == DType::f32)
    m.be.from_host(n.value, values.data(), values.size() * sizeof(float));
  else
    Tensor::view(n.value, n.shape, n.dtype, m.g.device()).copy_from(Tensor::from(n.shape, values));
  m.fed_after = s.name.c_str();
}

void StaticGraph::feed_indices(const std::string& name, const std::vector<int32_t>& ids) {
  Impl& m = *impl_;
  Impl::Slot& s = m.slot(name, "feed_indices");
  if (!s.is_index) throw Error("feed_indices: placeholder '" + name + "' holds a tensor; use feed()");
  m.feed_ids(s, ids.data(), int64_t(ids.size()));
}

void StaticGraph::feed_index(const std::string& name, int32_t id) {
  Impl& m = *impl_;
  Impl::Slot& s = m.slot(name, "feed_index");
  if (!s.is_index) throw Error("feed_index: placeholder '" + name + "' holds a tensor; use feed()");
  m.feed_ids(s, &id, 1);
}

void StaticGraph::feed_indices(const IndexPlaceholder& p, const int32_t* ids, int64_t n) {
  Impl& m = *impl_;
  if (p.g_ != &m.g || p.slot_ >= m.slots.size() || m.slots[p.slot_].ids != p.ids_)
    throw Error("feed_indices: the index placeholder belongs to another static graph");
  m.feed_ids(m.slots[p.slot_], ids, n);
}

void StaticGraph::Impl::feed_ids(Slot& s, const int32_t* ids, int64_t n) {
  if (n != s.n)
    throw ShapeError("feed_indices: placeholder '" + s.name + "' is declared with " + std::to_string(s.n) +
                     " ids but was fed " + std::to_string(n));
  refresh_bounds();
  for (int64_t k = 0; k < n; ++k)
    if (ids[k] < 0 || ids[k] >= s.bound)
      throw IndexError("feed_indices: placeholder '" + s.name + "' got id " + std::to_string(ids[k]) +
                       ", out of range [0, " + std::to_string(s.bound) + ") for " + s.bound_by);
  std::copy(ids, ids + n, s.ids);
  fed_after = s.name.c_str();
}

// ---- Results ----

void StaticGraph::Impl::check_planned(const Expr& e, const char* what) const {
  if (!compiled) throw Error(std::string(what) + ": compile() the static graph first");
  if (!e.valid() || &e.graph() != &g || e.id() >= planned_size)
    throw Error(std::string(what) + ": the expression is not a node of the compiled static graph");
}

Tensor StaticGraph::value(const Expr& e) const {
  const Impl& m = *impl_;
  m.check_planned(e, "value");
  const uint32_t id = e.id();
  const Node& n = m.nodes[id];
  const bool leaf = n.op == OpId::Input || n.op == OpId::Param;
  if (!leaf && !m.is_output[id])
    throw Error("value: node " + std::to_string(id) + " (" + op_name(n.op) + ", " + n.shape.str() +
                ") is not an output of the plan: its memory is reused; pass it to compile() in outputs");
  if (!leaf && (!m.computed || !(*m.computed)[id]))
    throw Error("value: node " + std::to_string(id) + " (" + op_name(n.op) +
                ") was not computed by the last forward()");
  if (n.op == OpId::Param) return n.attrs.param->value();
  return Tensor::view(n.value, n.shape, n.dtype, m.g.device());
}

Tensor StaticGraph::grad(const Expr& e) const {
  const Impl& m = *impl_;
  m.check_planned(e, "grad");
  const Node& n = m.nodes[e.id()];
  if (n.op == OpId::Param) return n.attrs.param->grad();
  if (n.op != OpId::Input || !n.grad)
    throw Error("grad: node " + std::to_string(e.id()) + " (" + op_name(n.op) +
                ") has no gradient in the plan; only inputs created with requires_grad keep theirs "
                "(parameters' gradients are in Parameter::grad())");
  return Tensor::view(n.grad, n.shape, n.dtype, m.g.device());
}

// ---- Ops reading index placeholders ----

namespace {
Attrs index_attrs(const IndexPlaceholder& p, const Expr& x, const char* op) {
  if (!p.data()) throw Error(std::string(op) + ": the index placeholder is empty (default-constructed)");
  if (!x.valid() || &x.graph() != &p.graph())
    throw Error(std::string(op) + ": index placeholder '" + p.name() + "' belongs to another graph");
  Attrs a;
  a.idx = p.data();
  a.n_idx = p.size();
  return a;
}
}  // namespace

Expr pick_neg_log_softmax(const Expr& x, const IndexPlaceholder& labels) {
  Attrs a = index_attrs(labels, x, "pick_neg_log_softmax");
  return x.graph().add(OpId::PickNegLogSoftmax, {x}, a);
}

Expr pick(const Expr& x, const IndexPlaceholder& idx, int dim) {
  Attrs a = index_attrs(idx, x, "pick");
  a.i[0] = dim;
  return x.graph().add(OpId::Pick, {x}, a);
}

Expr lookup(const Expr& table, const IndexPlaceholder& ids) {
  Attrs a = index_attrs(ids, table, "lookup");
  return table.graph().add(OpId::Lookup, {table}, a);
}

Expr lookup(Graph& g, Parameter& table, const IndexPlaceholder& ids) { return lookup(g.param(table), ids); }

}  // namespace flare
