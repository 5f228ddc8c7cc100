// StaticGraph::compile: the execution order, the lifetimes of values and gradients over the
// forward and backward schedule, and their offsets in one buffer.
#include <algorithm>

#include "exec/memory_plan.h"
#include "exec/static_impl.h"
#include "ops/deferred_ger.h"

namespace flare {
namespace {

constexpr int64_t kUnset = -1;

bool is_leaf(const Node& n) { return n.op == OpId::Input || n.op == OpId::Param; }

size_t node_bytes(const Node& n) { return size_t(n.shape.total()) * dtype_size(n.dtype); }

void check_expr(const Graph& g, const Expr& e, const char* what) {
  if (!e.valid()) throw Error(std::string("compile: ") + what + " is an empty Expr");
  if (&e.graph() != &g) throw Error(std::string("compile: ") + what + " belongs to another graph");
}

}  // namespace

void StaticGraph::Impl::release_plan() {
  if (buffer) be.deallocate(buffer, buffer_size);
  buffer = nullptr;
  buffer_size = 0;
  compiled = false;
  computed = nullptr;
  loss_ready = false;
}

void StaticGraph::compile(const std::vector<Expr>& outputs, const Expr& loss_expr) {
  Impl& m = *impl_;
  const Graph& g = m.g;
  for (const Expr& e : outputs) check_expr(g, e, "an output");
  if (loss_expr.valid() || !outputs.empty()) {
    if (loss_expr.valid()) check_expr(g, loss_expr, "the loss");
  } else {
    throw Error("compile: give at least one output or a loss");
  }
  if (loss_expr.valid() && loss_expr.shape().total() != 1)
    throw ShapeError("compile: the loss must be a scalar, got shape " + loss_expr.shape().str() +
                     "; reduce it with sum(), sum_batch() or mean_batch() first");

  m.release_plan();
  const uint32_t N = g.size();
  m.planned_size = N;
  m.loss = loss_expr.valid() ? loss_expr.id() : std::numeric_limits<uint32_t>::max();

  // Nodes the outputs and the loss need; the rest are dropped.
  m.needed.assign(N, 0);
  m.is_output.assign(N, 0);
  for (const Expr& e : outputs) m.needed[e.id()] = m.is_output[e.id()] = 1;
  if (loss_expr.valid()) m.needed[m.loss] = m.is_output[m.loss] = 1;
  for (uint32_t i = N; i-- > 0;) {
    if (!m.needed[i]) continue;
    const Node& n = g.node(i);
    const uint32_t* a = g.args(n);
    for (uint32_t k = 0; k < n.nargs; ++k) m.needed[a[k]] = 1;
  }

  // Nodes whose gradient backward computes, found as the eager engine does.
  std::vector<uint8_t> reach(N, 0);
  m.has_backward = loss_expr.valid() && g.node(m.loss).needs_grad;
  if (m.has_backward) {
    reach[m.loss] = 1;
    for (uint32_t i = m.loss + 1; i-- > 0;) {
      if (!reach[i]) continue;
      const Node& n = g.node(i);
      const uint32_t* a = g.args(n);
      for (uint32_t k = 0; k < n.nargs; ++k)
        if (g.node(a[k]).needs_grad) reach[a[k]] = 1;
    }
  }

  // Private copies of the nodes: runs write their value, grad and aux pointers, never the
  // recorded graph's.
  m.nodes.resize(N);
  uint32_t arg_end = 0;
  for (uint32_t i = 0; i < N; ++i) {
    m.nodes[i] = g.node(i);
    arg_end = std::max(arg_end, m.nodes[i].arg_begin + m.nodes[i].nargs);
  }
  m.argp.assign(arg_end, nullptr);
  for (uint32_t i = 0; i < N; ++i) {
    const Node& n = m.nodes[i];
    const uint32_t* a = g.args(g.node(i));
    for (uint32_t k = 0; k < n.nargs; ++k) m.argp[n.arg_begin + k] = &m.nodes[a[k]];
  }

  // The schedule: forward steps in recorded (topological) order, then backward steps in
  // reverse, exactly the eager engine's order, so that every float comes out the same.
  std::vector<int64_t> fpos(N, kUnset), bpos(N, kUnset);
  m.fwd.clear();
  m.fwd_ids.clear();
  m.bwd.clear();
  m.params.clear();
  for (uint32_t i = 0; i < N; ++i) {
    Node& n = m.nodes[i];
    if (!m.needed[i]) continue;
    if (n.op == OpId::Param) m.params.emplace_back(&n, n.attrs.param);
    if (is_leaf(n)) continue;
    fpos[i] = int64_t(m.fwd.size());
    m.fwd.push_back({&n, m.argp.data() + n.arg_begin, int(n.nargs), ops::def(n.op).forward});
    m.fwd_ids.push_back(i);
  }
  const int64_t F = int64_t(m.fwd.size());
  std::vector<uint8_t> read_whole(N, 0);  // per node: an op other than lookup reads it
  for (const auto& st : m.fwd)
    for (int k = 0; k < st.nargs; ++k)
      if (!(st.y->op == OpId::Lookup && k == 0)) read_whole[size_t(st.args[k] - m.nodes.data())] = 1;
  m.param_read_whole.clear();
  for (const auto& [node, p] : m.params) m.param_read_whole.push_back(read_whole[size_t(node - m.nodes.data())]);
  std::vector<uint32_t> bwd_ids;
  for (uint32_t i = N; i-- > 0;) {
    Node& n = m.nodes[i];
    if (!reach[i] || n.nargs == 0) continue;
    bpos[i] = F + int64_t(m.bwd.size());
    m.bwd.push_back({&n, m.argp.data() + n.arg_begin, int(n.nargs), ops::def(n.op).backward});
    bwd_ids.push_back(i);
  }
  const int64_t END = F + int64_t(m.bwd.size());

  // Lifetimes. A value lives from its forward step to its last reader: a later forward step,
  // a backward step (ops read their arguments' values and their own), or the end (outputs).
  std::vector<int64_t> vlast(fpos);
  for (int64_t s = 0; s < F; ++s)
    for (int k = 0; k < m.fwd[s].nargs; ++k) {
      const uint32_t a = uint32_t(m.fwd[s].args[k] - m.nodes.data());
      if (fpos[a] != kUnset) vlast[a] = std::max(vlast[a], s);
    }
  for (size_t b = 0; b < bwd_ids.size(); ++b) {
    const uint32_t c = bwd_ids[b];
    vlast[c] = std::max(vlast[c], bpos[c]);
    for (int k = 0; k < m.bwd[b].nargs; ++k) {
      const uint32_t a = uint32_t(m.bwd[b].args[k] - m.nodes.data());
      if (fpos[a] != kUnset) vlast[a] = std::max(vlast[a], bpos[c]);
    }
  }
  for (uint32_t i = 0; i < N; ++i)
    if (m.is_output[i] && fpos[i] != kUnset) vlast[i] = END;

  // A gradient lives from the first backward step that adds to it (its consumer run first)
  // to its own backward step; a leaf's lives to the end, for grad().
  std::vector<int64_t> gfirst(N, kUnset);
  if (m.has_backward) gfirst[m.loss] = F;
  for (size_t b = 0; b < bwd_ids.size(); ++b)
    for (int k = 0; k < m.bwd[b].nargs; ++k) {
      const uint32_t a = uint32_t(m.bwd[b].args[k] - m.nodes.data());
      if (reach[a] && gfirst[a] == kUnset) gfirst[a] = bpos[bwd_ids[b]];
    }

  // Backward defers rank-1 weight gradients as eager does (ops/deferred_ger.h) and applies them
  // at the end at the latest, reading the node's gradient (dy) and its vector argument's value
  // (x) then: those stay alive to the end of the schedule. The planner uses the op's own rule,
  // which may keep more alive than a run defers (a frozen parameter), never less.
  std::vector<int64_t> gend(N, kUnset);
  for (uint32_t i = 0; i < N; ++i)
    if (reach[i]) gend[i] = m.nodes[i].nargs ? bpos[i] : END;
  uint32_t deferred_products = 0;
  {
    std::vector<int> ws;
    for (size_t b = 0; b < bwd_ids.size(); ++b) {
      ws.clear();
      ops::deferrable_weights(*m.bwd[b].y, m.bwd[b].args, m.bwd[b].nargs, ws);
      if (ws.empty()) continue;
      gend[bwd_ids[b]] = END;
      for (int w : ws) {
        const uint32_t x = uint32_t(m.bwd[b].args[w + 1] - m.nodes.data());
        if (fpos[x] != kUnset) vlast[x] = END;
      }
      deferred_products += uint32_t(ws.size());
    }
  }

  struct Use {
    uint32_t node;
    bool grad;
  };
  std::vector<exec::Lifetime> lifetimes;
  std::vector<Use> uses;
  for (uint32_t i = 0; i < N; ++i) {
    const Node& n = m.nodes[i];
    if (fpos[i] != kUnset) {
      lifetimes.push_back({fpos[i], vlast[i], node_bytes(n)});
      uses.push_back({i, false});
    }
    if (reach[i] && n.op != OpId::Param) {
      lifetimes.push_back({gfirst[i], gend[i], node_bytes(n)});
      uses.push_back({i, true});
    }
  }
  exec::MemoryPlan mp = exec::plan_memory(lifetimes);
  m.buffer_size = mp.total;
  m.buffer = mp.total ? m.be.allocate(mp.total) : nullptr;
  for (size_t u = 0; u < uses.size(); ++u) {
    Node& n = m.nodes[uses[u].node];
    void* p = static_cast<char*>(m.buffer) + mp.offset[u];
    (uses[u].grad ? n.grad : n.value) = p;
  }
  for (uint32_t i = 0; i < N; ++i) {
    Node& n = m.nodes[i];
    if (!reach[i] && n.op != OpId::Param) n.grad = nullptr;
  }

  // Gradients sharing memory with earlier buffers are zeroed when they become live.
  m.zero_nodes.clear();
  m.zero_begin.assign(m.bwd.size() + 1, 0);
  {
    std::vector<std::vector<Node*>> at(m.bwd.size());
    for (uint32_t i = 0; i < N; ++i)
      if (reach[i] && m.nodes[i].op != OpId::Param && i != m.loss) at[size_t(gfirst[i] - F)].push_back(&m.nodes[i]);
    for (size_t b = 0; b < at.size(); ++b) {
      m.zero_begin[b] = uint32_t(m.zero_nodes.size());
      m.zero_nodes.insert(m.zero_nodes.end(), at[b].begin(), at[b].end());
    }
    m.zero_begin[m.bwd.size()] = uint32_t(m.zero_nodes.size());
  }

  m.stats = StaticPlanStats{};
  m.stats.recorded_nodes = N;
  m.stats.forward_nodes = uint32_t(F);
  m.stats.backward_nodes = uint32_t(m.bwd.size());
  m.stats.buffer_bytes = mp.total;
  m.stats.deferred_products = deferred_products;
  m.stats.unshared_bytes = mp.unshared;
  m.partial.assign(N, 0);
  m.refresh_bounds();
  m.compiled = true;
  m.probe();
  m.stats.scratch_bytes = m.scratch.arena_capacity();
}

}  // namespace flare
