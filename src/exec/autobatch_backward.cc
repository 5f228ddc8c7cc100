// The auto-batcher's backward pass: the groups forward ran, in reverse, each batched group again
// as one call of the op's backward on its synthetic node.
//
// Gradient layout. Graph::backward hands over one zeroed block in which every reached
// non-parameter node has a 64-byte-aligned slot in id order. Before running anything the
// executor re-lays out those slots inside the same block so that the reached members of each
// group are contiguous in member order, as their values are: a group's output gradient is then
// one slice, and so is each stacked argument's gradient wherever its values were one slice. (The
// packed layout never needs more room than the aligned one; the block is checked to be exactly
// as described, and if it is not, the graph's layout is kept and the copies below do the work.)
//
// A group where only some members are reached (the loss uses some of them), or whose stacked
// argument gradients are not one contiguous slice, works on zeroed temporaries: the reached
// members' output gradients are gathered in, and each reached member's share of an argument's
// gradient is added back to that argument afterwards. Unreached members contribute nothing
// there, exactly as in eager mode; through a shared argument (a weight) they add dy = 0 times
// their local derivative, which is 0 unless their values are not finite.
#include <algorithm>

#include "exec/autobatch_impl.h"

namespace flare {

using autobatch::ArgKind;
using autobatch::Clock;
using autobatch::Group;
using autobatch::GroupKind;
using autobatch::kNone;

namespace {

size_t align64(size_t b) { return (b + 63) & ~size_t(63); }

[[noreturn]] void grad_anomaly(const Graph& g, uint32_t id) {
  const Node& n = g.node(id);
  std::string msg = "anomaly: non-finite gradient of node " + std::to_string(id) + " (" + op_name(n.op) +
                    ", shape " + n.shape.str() + ", computed by an auto-batched backward)";
  if (n.op == OpId::Param && n.attrs.param) msg += "; parameter " + n.attrs.param->name();
  throw AnomalyError(msg);
}

}  // namespace

void Autobatch::Impl::backward(Graph& g, uint32_t root, const std::vector<uint8_t>& reach) {
  const auto t0 = Clock::now();
  // Without this graph's groups (it was computed eagerly, or by another executor's run since),
  // every node runs its own backward: correct, since members of batched groups hold their own
  // slices of values and scratch.
  const bool have = st.graph == &g && st.epoch == g.epoch();
  if (have) layout_grads(g, root, reach);

  int r = have ? int(st.ranges.size()) - 1 : -1;
  int64_t i = root;
  while (i >= 0) {
    while (r >= 0 && int64_t(st.ranges[size_t(r)].begin) > i) --r;
    if (r >= 0 && i < int64_t(st.ranges[size_t(r)].end)) {
      const autobatch::Range& R = st.ranges[size_t(r)];
      for (uint32_t gi = R.gend; gi-- > R.gbegin;) backward_group(g, gi, root, reach);
      i = int64_t(R.begin) - 1;
      --r;
      continue;
    }
    const uint32_t id = uint32_t(i);
    if (reach[id] && g.node(id).nargs > 0) {
      g.backward_node(id);
      ++stats.backward_kernels;
    }
    --i;
  }
  stats.total_seconds += autobatch::seconds_since(t0);
}

void Autobatch::Impl::layout_grads(Graph& g, uint32_t root, const std::vector<uint8_t>& reach) {
  // Check the block is as Graph::backward makes it.
  char* lo = nullptr;
  size_t have = 0;
  for (uint32_t i = 0; i <= root; ++i) {
    const Node& n = g.node(i);
    if (!reach[i] || n.op == OpId::Param) continue;
    char* p = static_cast<char*>(n.grad);
    if (!lo) lo = p;
    if (p != lo + have) return;
    have += align64(size_t(n.shape.total()) * dtype_size(n.dtype));
  }
  if (!lo) return;

  auto reached = [&](uint32_t m) { return m <= root && reach[m] && g.node(m).op != OpId::Param; };
  auto bytes = [&](uint32_t m) { return size_t(g.node(m).shape.total()) * dtype_size(g.node(m).dtype); };
  // Room needed: each group's reached members packed, then everything else reached, aligned.
  size_t need = 0;
  for (const Group& G : st.groups) {
    size_t gb = 0;
    for (uint32_t j = 0; j < G.mcount; ++j)
      if (reached(st.members[G.mbegin + j])) gb += bytes(st.members[G.mbegin + j]);
    need += align64(gb);
  }
  for (uint32_t i = 0; i <= root; ++i)
    if (reached(i) && (i >= st.group_of.size() || st.group_of[i] == kNone)) need += align64(bytes(i));
  if (need > have) return;

  Node& rn = g.node(root);
  Backend& be = g.backend();
  be.fill(rn.dtype, rn.grad, 1, 0.0);  // the seed moves with the root's slot
  char* at = lo;
  for (const Group& G : st.groups) {
    size_t gb = 0;
    for (uint32_t j = 0; j < G.mcount; ++j) {
      const uint32_t m = st.members[G.mbegin + j];
      if (!reached(m)) continue;
      g.node(m).grad = at + gb;
      gb += bytes(m);
    }
    at += align64(gb);
  }
  for (uint32_t i = 0; i <= root; ++i)
    if (reached(i) && (i >= st.group_of.size() || st.group_of[i] == kNone)) {
      g.node(i).grad = at;
      at += align64(bytes(i));
    }
  be.fill(rn.dtype, rn.grad, 1, 1.0);
}

void Autobatch::Impl::backward_group(Graph& g, uint32_t gi, uint32_t root, const std::vector<uint8_t>& reach) {
  const Group& G = st.groups[gi];
  const uint32_t* mem = &st.members[G.mbegin];
  const uint32_t k = G.mcount;
  auto reached = [&](uint32_t m) { return m <= root && reach[m]; };
  if (G.kind == GroupKind::Solo) {
    for (uint32_t j = k; j-- > 0;)
      if (reached(mem[j]) && g.node(mem[j]).nargs > 0) {
        g.backward_node(mem[j]);
        ++stats.backward_kernels;
      }
    return;
  }
  uint32_t nr = 0;
  for (uint32_t j = 0; j < k; ++j) nr += reached(mem[j]);
  if (nr == 0) return;

  Backend& be = g.backend();
  Node& y = st.syn[G.syn];
  const DType t = y.dtype;
  const size_t es = dtype_size(t);
  const int64_t total = y.shape.total();
  const uint32_t nargs = y.nargs;
  auto elems = [&](uint32_t id) { return g.node(id).shape.total(); };

  // The output gradient: the members' own slots when they are one slice.
  bool direct = nr == k;
  for (uint32_t j = 0, off = 0; j < k && direct; off += uint32_t(elems(mem[j])), ++j)
    direct = g.node(mem[j]).grad == static_cast<char*>(g.node(mem[0]).grad) + size_t(off) * es;
  stats.operand_elements += uint64_t(total);
  if (direct) {
    y.grad = g.node(mem[0]).grad;
  } else {
    const auto t0 = Clock::now();
    char* tmp = static_cast<char*>(g.alloc(size_t(total) * es));
    be.fill(t, tmp, total, 0.0);
    int64_t off = 0;
    for (uint32_t j = 0; j < k; ++j) {
      const Node& m = g.node(mem[j]);
      if (reached(mem[j])) {
        be.copy(t, tmp + size_t(off) * es, m.grad, m.shape.total());
        stats.copied_elements += uint64_t(m.shape.total());
      }
      off += m.shape.total();
    }
    y.grad = tmp;
    stats.copy_seconds += autobatch::seconds_since(t0);
  }

  // Argument gradients.
  ptrs.resize(nargs);
  ids.clear();  // stacked arguments that work on a temporary
  auto has_grad = [&](uint32_t a) {
    const Node& X = g.node(a);
    return X.op == OpId::Param ? X.grad != nullptr : reached(a);
  };
  for (uint32_t i = 0; i < nargs; ++i) {
    const autobatch::ArgRef ar = st.args[G.abegin + i];
    if (ar.kind == ArgKind::Shared) {
      ptrs[i] = &g.node(ar.ref);
      continue;
    }
    Node& A = st.syn[ar.ref];
    ptrs[i] = &A;
    A.grad = nullptr;
    if (!A.needs_grad) continue;
    bool contiguous = nr == k;
    const char* first = nullptr;
    const char* expect = nullptr;
    for (uint32_t j = 0; j < k && contiguous; ++j) {
      const uint32_t a = g.args(g.node(mem[j]))[i];
      const Node& X = g.node(a);
      contiguous = has_grad(a) && (j == 0 || X.grad == expect);
      if (j == 0) first = static_cast<const char*>(X.grad);
      expect = static_cast<const char*>(X.grad) + size_t(X.shape.total()) * es;
    }
    stats.operand_elements += uint64_t(A.shape.total());
    if (contiguous) {
      A.grad = const_cast<char*>(first);
    } else {
      A.grad = g.alloc(size_t(A.shape.total()) * es);
      be.fill(t, A.grad, A.shape.total(), 0.0);
      ids.push_back(i);
    }
  }

  ops::def(y.op).backward(ops::Ctx{be, &g, y, ptrs.data(), int(nargs)});
  ++stats.backward_kernels;

  // Each reached member's share of a temporary goes back to its argument.
  if (!ids.empty()) {
    const auto t0 = Clock::now();
    for (uint32_t i : ids) {
      const char* src = static_cast<const char*>(st.syn[st.args[G.abegin + i].ref].grad);
      int64_t off = 0;
      for (uint32_t j = 0; j < k; ++j) {
        const uint32_t a = g.args(g.node(mem[j]))[i];
        const Node& X = g.node(a);
        const int64_t n = X.shape.total();
        if (reached(mem[j]) && has_grad(a)) {
          be.axpy(t, X.grad, src + size_t(off) * es, n, 1.0);
          stats.copied_elements += uint64_t(n);
        }
        off += n;
      }
    }
    stats.copy_seconds += autobatch::seconds_since(t0);
  }

  if (g.check_finite())
    for (uint32_t j = 0; j < k; ++j) {
      if (!reached(mem[j])) continue;
      const uint32_t* a = g.args(g.node(mem[j]));
      for (uint32_t i = 0; i < nargs; ++i) {
        const Node& X = g.node(a[i]);
        if (X.needs_grad && has_grad(a[i]) && !be.all_finite(X.dtype, X.grad, X.shape.total()))
          grad_anomaly(g, a[i]);
      }
    }
}

}  // namespace flare
