#include "ops/deferred_ger.h"

namespace flare::ops {
namespace {

// The pending terms of one gradient.
struct Group {
  void* c = nullptr;
  int64_t m = 0, k = 0;
  std::vector<const void*> a, b;
};

// Tests' record of the ger_batched calls made by flushes (trace_deferred_gers).
thread_local std::vector<DeferredGerCall>* t_trace = nullptr;

// Per thread: graphs on different threads run backward independently. Groups keep their
// vectors' memory across passes; `used` counts the live ones.
struct State {
  Backend* be = nullptr;
  std::vector<Group> groups;
  size_t used = 0;

  void apply(Group& g) {
    if (t_trace) t_trace->push_back({g.m, g.k, int64_t(g.a.size())});
    be->ger_batched(DType::f32, g.m, g.k, 1.0, g.a.data(), g.b.data(), int64_t(g.a.size()), g.c, g.k);
    g.c = nullptr;
  }
  void flush(void* c) {
    for (size_t i = 0; i < used; ++i)
      if (groups[i].c == c) {
        apply(groups[i]);
        // Keep live groups first; the emptied one's vectors are reused later.
        std::swap(groups[i], groups[used - 1]);
        --used;
        return;
      }
  }
  void flush_all() {
    for (size_t i = 0; i < used; ++i) apply(groups[i]);
    used = 0;
  }
};

thread_local State t_state;

}  // namespace

DeferredGerScope::DeferredGerScope(Backend& be, bool enabled) {
  if (!enabled) return;
  t_state.be = &be;
  t_state.used = 0;
}

DeferredGerScope::~DeferredGerScope() {
  t_state.be = nullptr;
  t_state.used = 0;
}

void DeferredGerScope::flush() {
  if (t_state.be) t_state.flush_all();
}

void DeferredGerScope::before_backward(const Node& n, const Node* nodes, const uint32_t* arg_ids) const {
  if (!t_state.used || n.op == OpId::Affine || n.op == OpId::Matmul) return;
  for (uint32_t i = 0; i < n.nargs; ++i) {
    const Node& a = nodes[arg_ids[i]];
    if (a.op == OpId::Param && a.grad) t_state.flush(a.grad);
  }
}

void DeferredGerScope::before_backward(const Node& n, Node* const* args) const {
  if (!t_state.used || n.op == OpId::Affine || n.op == OpId::Matmul) return;
  for (uint32_t i = 0; i < n.nargs; ++i) {
    const Node& a = *args[i];
    if (a.op == OpId::Param && a.grad) t_state.flush(a.grad);
  }
}

void trace_deferred_gers(std::vector<DeferredGerCall>* sink) { t_trace = sink; }

bool can_defer_ger(const Ctx& c, int w) {
  return t_state.be == &c.be && c.t() == DType::f32 && c.arg(w).op == OpId::Param;
}

void defer_ger(const Ctx& c, void* dw, int64_t m, int64_t k, const void* a, const void* b) {
  State& s = t_state;
  for (size_t i = 0; i < s.used; ++i) {
    Group& g = s.groups[i];
    if (g.c == dw) {
      g.a.push_back(a);
      g.b.push_back(b);
      return;
    }
  }
  if (s.used == s.groups.size()) s.groups.emplace_back();
  Group& g = s.groups[s.used++];
  g.c = dw, g.m = m, g.k = k;
  g.a.assign(1, a);
  g.b.assign(1, b);
}

void flush_deferred(void* g) {
  if (t_state.used && g) t_state.flush(g);
}

}  // namespace flare::ops
