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
  st.relaid = false;
  for (Group& G : st.groups) {
    G.full = false;
    G.delta_ok = false;
    G.grad_base = nullptr;
  }
  // Check the block is as Graph::backward makes it, and size what goes outside groups.
  char* lo = nullptr;
  size_t have = 0, need = 0;
  for (uint32_t i = 0; i <= root; ++i) {
    if (!reach[i]) continue;
    const Node& n = g.node(i);
    if (n.op == OpId::Param) continue;
    char* p = static_cast<char*>(n.grad);
    if (!lo) lo = p;
    if (p != lo + have) return;
    const size_t b = align64(size_t(n.shape.total()) * dtype_size(n.dtype));
    have += b;
    if (i >= st.group_of.size() || st.group_of[i] == kNone) need += b;
  }
  if (!lo) return;

  // Each group's reached members packed (members are never parameters); a batched group whose
  // members are all reached mirrors its value block (gradient = value + delta), and a chain of
  // such groups mirrors the whole chain, so slices that span blocks stay slices.
  std::vector<size_t>& packed = gbytes_;
  packed.assign(st.groups.size(), 0);
  for (size_t gi = 0; gi < st.groups.size(); ++gi) {
    Group& G = st.groups[gi];
    int64_t e = 0;
    uint32_t nr = 0;
    for (uint32_t j = 0; j < G.mcount; ++j) {
      const uint32_t m = st.members[G.mbegin + j];
      if (m <= root && reach[m]) {
        e += st.melem[G.mbegin + j];
        ++nr;
      }
    }
    G.full = nr == G.mcount;
    packed[gi] = size_t(e) * dtype_size(G.dtype);
  }
  auto mirrored = [&](const Group& G) { return G.kind == GroupKind::Batched && G.value_base && G.full; };
  auto chain_full = [&](uint32_t head) {
    for (uint32_t c = head; c != kNone; c = st.groups[c].chain_next)
      if (!mirrored(st.groups[c])) return false;
    return true;
  };
  std::vector<uint8_t>& in_chain = chain_mirror_;  // group of a chain mirrored whole
  in_chain.assign(st.groups.size(), 0);
  for (uint32_t gi = 0; gi < st.groups.size(); ++gi) {
    const Group& G = st.groups[gi];
    if (!G.chain_head || G.chain_next == kNone || !chain_full(gi)) continue;
    size_t b = 0;
    for (uint32_t c = gi; c != kNone; c = st.groups[c].chain_next) {
      in_chain[c] = 1;
      b += packed[c];
    }
    need += align64(b);
  }
  for (uint32_t gi = 0; gi < st.groups.size(); ++gi)
    if (!in_chain[gi]) need += align64(packed[gi]);
  if (need > have) {
    for (Group& G : st.groups) G.full = false;
    return;
  }

  Node& rn = g.node(root);
  Backend& be = g.backend();
  be.fill(rn.dtype, rn.grad, 1, 0.0);  // the seed moves with the root's slot
  // Slots group by group (no node is touched here: packed members get their offsets in poff_),
  // then one pass in node order hands every reached node its gradient.
  char* at = lo;
  std::vector<int64_t>& poff = poff_;
  if (poff.size() < st.group_of.size()) poff.resize(st.group_of.size());
  for (uint32_t gi = 0; gi < st.groups.size(); ++gi) {
    Group& G = st.groups[gi];
    if (in_chain[gi]) {
      if (!G.chain_head) continue;
      char* chain_value = G.value_base;
      size_t b = 0;
      for (uint32_t c = gi; c != kNone; c = st.groups[c].chain_next) {
        Group& C = st.groups[c];
        char* gb = at + (C.value_base - chain_value);
        C.delta_ok = true;
        C.grad_base = gb;
        C.delta = gb - C.value_base;
        b += packed[c];
      }
      at += align64(b);
      continue;
    }
    G.grad_base = at;
    if (mirrored(G)) {
      G.delta_ok = true;
      G.delta = at - G.value_base;
    } else {
      int64_t e = 0;
      for (uint32_t j = 0; j < G.mcount; ++j) {
        const uint32_t m = st.members[G.mbegin + j];
        if (m > root || !reach[m]) continue;
        poff[m] = e;
        e += st.melem[G.mbegin + j];
      }
    }
    at += align64(packed[gi]);
  }
  for (uint32_t i = 0; i <= root; ++i) {
    if (!reach[i]) continue;
    Node& n = g.node(i);
    if (n.op == OpId::Param) continue;
    const uint32_t gi = i < st.group_of.size() ? st.group_of[i] : kNone;
    if (gi != kNone) {
      const Group& G = st.groups[gi];
      n.grad = G.delta_ok ? static_cast<char*>(n.value) + G.delta
                          : static_cast<char*>(G.grad_base) + size_t(poff[i]) * dtype_size(G.dtype);
      continue;
    }
    n.grad = at;
    at += align64(size_t(n.shape.total()) * dtype_size(n.dtype));
  }
  be.fill(rn.dtype, rn.grad, 1, 1.0);
  st.relaid = true;
}

void Autobatch::Impl::backward_group(Graph& g, uint32_t gi, uint32_t root, const std::vector<uint8_t>& reach) {
  const Group& G = st.groups[gi];
  const uint32_t* mem = &st.members[G.mbegin];
  const int64_t* melem = &st.melem[G.mbegin];
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

  // The output gradient: the members' own slots when they are one slice (by the layout, or as
  // checked member by member when the graph's layout was kept).
  bool direct = nr == k;
  const bool laid = st.relaid && G.delta_ok;
  if (direct && !laid) {
    const char* base = static_cast<const char*>(g.node(mem[0]).grad);
    int64_t off = 0;
    for (uint32_t j = 0; j < k && direct; off += melem[j], ++j) direct = g.node(mem[j]).grad == base + size_t(off) * es;
  }
  stats.operand_elements += uint64_t(total);
  if (direct) {
    y.grad = laid ? G.grad_base : g.node(mem[0]).grad;
  } else {
    const auto t0 = Clock::now();
    char* tmp = static_cast<char*>(g.alloc(size_t(total) * es));
    be.fill(t, tmp, total, 0.0);
    int64_t off = 0;
    for (uint32_t j = 0; j < k; ++j) {
      if (reached(mem[j])) {
        segs.add(tmp + size_t(off) * es, g.node(mem[j]).grad, melem[j]);
        stats.copied_elements += uint64_t(melem[j]);
      }
      off += melem[j];
    }
    segs.run(be, t, false);
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
    const autobatch::ArgRef& ar = st.args[G.abegin + i];
    if (ar.kind == ArgKind::Shared) {
      ptrs[i] = &g.node(ar.ref);
      continue;
    }
    Node& A = st.syn[ar.ref];
    ptrs[i] = &A;
    A.grad = nullptr;
    if (!A.needs_grad) continue;
    const uint32_t* aid = &st.margs[ar.ids];
    stats.operand_elements += uint64_t(A.shape.total());
    // One slice when the values were one slice and every group they lie in mirrors its values
    // with the same delta (every member here reached); else checked node by node. Arguments
    // outside every group (leaves: inputs, parameters) have no delta: their gradients live apart
    // from their values however those lie, so the first member is always checked.
    bool contiguous = nr == k;
    bool by_delta = contiguous && st.relaid && ar.contiguous;
    std::ptrdiff_t delta = 0;
    for (uint32_t j = 0, prev = kNone; j < k && by_delta; ++j) {
      const uint32_t P = aid[j] < st.group_of.size() ? st.group_of[aid[j]] : kNone;
      if (j > 0 && P == prev) continue;
      by_delta = P != kNone && st.groups[P].delta_ok && (prev == kNone || st.groups[P].delta == delta);
      delta = by_delta ? st.groups[P].delta : 0;
      prev = P;
    }
    if (contiguous && !by_delta) {
      const char* expect = nullptr;
      for (uint32_t j = 0; j < k && contiguous; ++j) {
        const Node& X = g.node(aid[j]);
        contiguous = has_grad(aid[j]) && (j == 0 || X.grad == expect);
        expect = static_cast<const char*>(X.grad) + size_t(X.shape.total()) * es;
      }
    }
    if (by_delta) {
      A.grad = static_cast<char*>(A.value) + delta;
    } else if (contiguous) {
      A.grad = g.node(aid[0]).grad;
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
      const autobatch::ArgRef& ar = st.args[G.abegin + i];
      const char* src = static_cast<const char*>(st.syn[ar.ref].grad);
      const uint32_t* aid = &st.margs[ar.ids];
      const int64_t per = G.flat ? 0 : st.syn[ar.ref].shape.total() / k;
      // Runs of members whose argument gradients follow one another are one call.
      int64_t off = 0, run_off = 0, run_n = 0;
      char* run_dst = nullptr;
      auto flush = [&] {
        if (run_n) segs.add(run_dst, src + size_t(run_off) * es, run_n);
        stats.copied_elements += uint64_t(run_n);
        run_n = 0;
      };
      for (uint32_t j = 0; j < k; ++j) {
        const int64_t n = G.flat ? melem[j] : per;
        if (reached(mem[j]) && has_grad(aid[j])) {
          char* dst = static_cast<char*>(g.node(aid[j]).grad);
          if (run_n && dst == run_dst + size_t(run_n) * es && off == run_off + run_n) {
            run_n += n;
          } else {
            flush();
            run_dst = dst;
            run_off = off;
            run_n = n;
          }
        }
        off += n;
      }
      flush();
      segs.run(be, t, true);
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
