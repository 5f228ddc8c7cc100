// Running a compiled static graph: the planned steps, nothing else. No shape rule runs, no
// memory is allocated (the op scratch arena was sized by compile()'s warm-up run).
#include <algorithm>
#include <vector>

#include "exec/static_impl.h"
#include "ops/deferred_ger.h"

namespace flare {
namespace {

[[noreturn]] void anomaly(const Node& n, size_t id, bool grad) {
  throw AnomalyError(std::string("anomaly: non-finite ") + (grad ? "gradient of" : "value from") +
                     " node " + std::to_string(id) + " (" + op_name(n.op) + ", shape " + n.shape.str() +
                     ") in a static graph run");
}

}  // namespace

void StaticGraph::Impl::run_forward(const std::vector<uint8_t>* mask, bool check) {
  for (size_t j = 0; j < params.size(); ++j) {
    auto& [node, p] = params[j];
    // Parameters may have been given new tensors (loading, moving) since compile(). A table
    // only looked up is not settled here: each lookup settles the rows it reads.
    node->value = param_read_whole[j] ? p->value().data() : p->stored_value().data();
    node->grad = p->trainable() ? p->grad().data() : nullptr;
  }
  scratch.clear();
  for (size_t s = 0; s < fwd.size(); ++s) {
    if (mask && !(*mask)[fwd_ids[s]]) continue;
    const Step& st = fwd[s];
    ops::Ctx c{be, &scratch, *st.y, st.args, st.nargs};
    st.fn(c);
    if (check && !be.all_finite(st.y->dtype, st.y->value, st.y->shape.total()))
      anomaly(*st.y, fwd_ids[s], false);
  }
}

void StaticGraph::Impl::run_backward(bool check, bool defer) {
  const Node& ln = nodes[loss];
  be.fill(ln.dtype, ln.grad, 1, 1.0);
  // Rank-1 weight gradients are summed per parameter exactly as eager Graph::backward sums them
  // (ops/deferred_ger.h): same scope, same flush points, so the same backend calls and bits on
  // every device. The planner kept the deferred vectors alive to the end (static_plan.cc).
  ops::DeferredGerScope deferred(be, defer && !check);
  for (size_t b = 0; b < bwd.size(); ++b) {
    for (uint32_t z = zero_begin[b]; z < zero_begin[b + 1]; ++z) {
      Node* n = zero_nodes[z];
      be.fill(n->dtype, n->grad, n->shape.total(), 0.0);
    }
    const Step& st = bwd[b];
    deferred.before_backward(*st.y, st.args);
    ops::Ctx c{be, &scratch, *st.y, st.args, st.nargs};
    st.fn(c);
    if (check)
      for (int k = 0; k < st.nargs; ++k) {
        const Node& a = *st.args[k];
        if (a.needs_grad && a.grad && !be.all_finite(a.dtype, a.grad, a.shape.total()))
          anomaly(a, size_t(&a - nodes.data()), true);
      }
  }
  deferred.flush();
}

// One run on whatever the placeholders hold, so that op scratch memory is held before the
// first real run. Parameters' gradients are sent to a throwaway buffer, sparse ones record no
// rows, and the random stream is rewound afterwards: the model sees no trace of it.
void StaticGraph::Impl::probe() {
  size_t grad_bytes = 0;
  for (auto& [node, p] : params) grad_bytes = std::max(grad_bytes, p->grad().bytes());
  void* sink = grad_bytes ? be.allocate(grad_bytes) : nullptr;
  try {
    run_forward(nullptr, false);
    for (auto& [node, p] : params) {
      if (node->grad) node->grad = sink;
      node->attrs.param = nullptr;
    }
    // No deferral: every parameter's gradient points at the one sink here, which would merge
    // terms of differently shaped weights into one group.
    if (has_backward) run_backward(false, false);
  } catch (...) {
    for (auto& [node, p] : params) node->attrs.param = p;
    if (sink) be.deallocate(sink, grad_bytes);
    throw;
  }
  for (auto& [node, p] : params) {
    node->attrs.param = p;
    node->grad = p->trainable() ? p->grad().data() : nullptr;
  }
  if (sink) be.deallocate(sink, grad_bytes);
  be.synchronize();
  scratch.set_seed(g.seed());
  computed = nullptr;
  loss_ready = false;
}

void StaticGraph::forward() {
  Impl& m = *impl_;
  if (!m.compiled) throw Error("forward: compile() the static graph first");
  if (m.g.size() != m.planned_size)
    throw Error("forward: the graph has " + std::to_string(m.g.size()) + " nodes but " +
                std::to_string(m.planned_size) + " were compiled; compile() again after recording");
  m.run_forward(nullptr, m.g.check_finite());
  m.computed = &m.needed;
  m.loss_ready = m.has_backward;
  m.fed_after = nullptr;
}

void StaticGraph::forward(const std::vector<Expr>& outputs) {
  Impl& m = *impl_;
  if (!m.compiled) throw Error("forward: compile() the static graph first");
  if (m.g.size() != m.planned_size)
    throw Error("forward: the graph has " + std::to_string(m.g.size()) + " nodes but " +
                std::to_string(m.planned_size) + " were compiled; compile() again after recording");
  std::vector<uint8_t>& mask = m.partial;
  std::fill(mask.begin(), mask.end(), 0);
  for (const Expr& e : outputs) {
    if (!e.valid() || &e.graph() != &m.g || e.id() >= m.planned_size || !m.is_output[e.id()])
      throw Error("forward: an expression passed is not an output (or the loss) given to compile()");
    mask[e.id()] = 1;
  }
  for (uint32_t i = m.planned_size; i-- > 0;) {
    if (!mask[i]) continue;
    const Node& n = m.nodes[i];
    for (uint32_t k = 0; k < n.nargs; ++k) mask[uint32_t(m.argp[n.arg_begin + k] - m.nodes.data())] = 1;
  }
  m.run_forward(&mask, m.g.check_finite());
  m.computed = &mask;
  m.loss_ready = m.has_backward && mask[m.loss];
  m.fed_after = nullptr;
}

void StaticGraph::backward() {
  Impl& m = *impl_;
  if (!m.compiled) throw Error("backward: compile() the static graph first");
  if (m.loss == std::numeric_limits<uint32_t>::max())
    throw Error("backward: the static graph was compiled without a loss");
  if (!m.g.node(m.loss).needs_grad) return;  // nothing trainable behind the loss, as in eager
  if (!m.loss_ready)
    throw Error("backward: run forward() (computing the loss) first; backward runs once per forward");
  if (m.fed_after)
    throw Error(std::string("backward: placeholder '") + m.fed_after +
                "' was fed after forward(); backward would mix two inputs. Feed, then forward(), then backward()");
  m.loss_ready = false;
  m.run_backward(m.g.check_finite(), true);
}

}  // namespace flare
