// The auto-batcher's forward pass: plan the pending nodes (autobatch_schedule.cc), then run each
// group, batched groups as one call of the op on a synthetic node.
//
// A synthetic node has the op and attributes of the group's members, the output shape of a
// member with the batch of all of them (flat element-wise groups: [all elements]), and its
// value is one block that holds every member's value in member order: after the call each
// member's value points at its slice, nothing is copied out. Its arguments are either a real
// node shared by every member (batch 1, broadcast by the op) or a synthetic node whose value is
// the members' arguments one after another: the members' own memory when that is already
// contiguous in member order, else a temporary they are gathered into (counted in the stats).
// Per-example index lists (pick, lookup, pick_neg_log_softmax) are concatenated. The op's own
// shape rule checks each new combination once per signature; a combination it rejects (an op
// that does not broadcast a shared argument, say) is retried with every argument stacked, and
// then run member by member.
#include <algorithm>
#include <cstring>

#include "exec/autobatch_impl.h"

namespace flare {

using autobatch::ArgKind;
using autobatch::ArgRef;
using autobatch::Clock;
using autobatch::Group;
using autobatch::GroupKind;
using autobatch::kNone;

namespace {

bool has_indices(OpId op) { return op == OpId::Pick || op == OpId::Lookup || op == OpId::PickNegLogSoftmax; }
bool is_random(OpId op) { return op == OpId::Dropout || op == OpId::GaussianNoise; }

bool rule_accepts(const ops::OpDef& d, OpId op, Node** args, int nargs, const Attrs& at, DType t,
                  const Shape& want) {
  try {
    ops::ShapeArgs sa{op, args, nargs, at, t};
    return d.shape(sa) == want;
  } catch (const Error&) {
    return false;
  }
}

[[noreturn]] void value_anomaly(const Graph& g, uint32_t id, uint32_t group_size) {
  const Node& n = g.node(id);
  throw AnomalyError("anomaly: non-finite value from node " + std::to_string(id) + " (" + op_name(n.op) +
                     ", shape " + n.shape.str() + ", computed in an auto-batched group of " +
                     std::to_string(group_size) + ")");
}

}  // namespace

void Autobatch::Impl::forward(Graph& g, uint32_t begin, uint32_t end) {
  const auto t0 = Clock::now();
  if (st.graph != &g || st.epoch != g.epoch() || (!st.ranges.empty() && begin < st.ranges.back().end))
    st.reset(g);
  if (st.group_of.size() < end) st.group_of.resize(end, kNone);

  sign_nodes(g, begin, end);
  switch (opt.strategy) {
    case BatchStrategy::agenda: schedule_agenda(); break;
    case BatchStrategy::depth: schedule_depth(); break;
    case BatchStrategy::none: schedule_none(); break;
  }
  const bool planned = opt.plan_layout && opt.strategy != BatchStrategy::none;
  plan.region = nullptr;
  index_groups();
  plan.moff.assign(plan.n, 0);
  if (planned) {
    plan_layout();
    plan_memory(g);
    if (plan.region_bytes) plan.region = static_cast<char*>(g.alloc(plan.region_bytes));
  }

  const uint32_t gbegin = uint32_t(st.groups.size());
  plan_gbegin = gbegin;
  uint32_t off = 0;
  for (size_t k = 0; k < plan.gsize.size(); ++k) {
    Group G;
    G.sig = plan.gsig[k];
    const Node& n0 = g.node(plan.order[off]);
    G.op = n0.op;
    G.dtype = n0.dtype;
    G.flat = plan.sigs[G.sig].flat;
    G.mbegin = uint32_t(st.members.size());
    G.mcount = plan.gsize[k];
    G.kind = G.mcount >= 2 ? GroupKind::Batched : GroupKind::Solo;
    const uint32_t gi = uint32_t(st.groups.size());
    if (plan.region && G.kind == GroupKind::Batched) {
      G.value_base = plan.region + plan.gbyte[k];
      G.chain_head = plan.pred[k] == kNone;
      G.chain_next = plan.succ[k] == kNone ? kNone : gbegin + plan.succ[k];
    }
    for (uint32_t j = 0; j < G.mcount; ++j) {
      const uint32_t m = plan.order[off + j];
      st.members.push_back(m);
      st.group_of[m] = gi;
    }
    off += G.mcount;
    st.groups.push_back(G);
  }
  st.melem.resize(st.members.size());
  st.ranges.push_back({begin, end, gbegin, uint32_t(st.groups.size())});
  stats.schedule_seconds += autobatch::seconds_since(t0);

  for (uint32_t gi = gbegin; gi < st.groups.size(); ++gi) run_group(g, gi);
  // Members of batched groups learn where their values are in one pass in node order (cheaper
  // than touching them group by group, scattered over the node array).
  for (uint32_t li = 0; li < plan.n; ++li) {
    if (plan.sig[li] == kNone) continue;
    const Group& G = st.groups[gbegin + plan.local_group[li]];
    if (G.kind != GroupKind::Batched) continue;
    g.node(begin + li).value = G.value_base + size_t(plan.moff[li]) * dtype_size(G.dtype);
  }
  stats.total_seconds += autobatch::seconds_since(t0);
}

void Autobatch::Impl::run_group(Graph& g, uint32_t gi) {
  if (st.groups[gi].kind == GroupKind::Batched && run_batched(g, gi)) return;
  Group& G = st.groups[gi];
  G.kind = GroupKind::Solo;
  for (uint32_t j = 0; j < G.mcount; ++j) {
    const uint32_t m = st.members[G.mbegin + j];
    run_solo(g, m);
    st.melem[G.mbegin + j] = plan.elems[m - plan.begin];
  }
}

// Members of batched groups learn their value pointers at the end of forward(); a node that
// reads them as a real node before that (one run alone, or a shared argument) gets them here.
void Autobatch::Impl::materialize(Graph& g, uint32_t id) {
  if (id < plan.begin || plan.sig[id - plan.begin] == kNone) return;
  int64_t n;
  const char* v = value_of(g, id, &n, dtype_size(g.node(id).dtype));
  g.node(id).value = const_cast<char*>(v);
}

void Autobatch::Impl::run_solo(Graph& g, uint32_t id) {
  for (uint32_t k = 0, na = plan.nargs(id); k < na; ++k) materialize(g, plan.arg(id, k));
  Node& n = g.node(id);
  if (is_random(n.op)) {
    n.value = g.alloc(size_t(n.shape.total()) * dtype_size(n.dtype));
    run_random(g, n, g.node(plan.arg(id, 0)), &id, 1, false);
    if (g.check_finite() && !g.backend().all_finite(n.dtype, n.value, n.shape.total())) value_anomaly(g, id, 1);
  } else {
    g.forward_node(id);  // checks finiteness itself when asked to
  }
  ++stats.nodes;
  ++stats.forward_kernels;
  stats.value_elements += uint64_t(n.shape.total());
}

// The stacked argument `A` (position `arg` of members mem[0..k)): the members' own memory when
// it is one slice in member order, else a temporary they are copied into. `contiguous` says
// which; `ids` receives the argument node ids.
// A node's value and element count: from the memory plan for members of this call's batched
// groups (no need to touch the node), else from the node.
inline const char* Autobatch::Impl::value_of(Graph& g, uint32_t id, int64_t* elems, size_t es) {
  if (id >= plan.begin && plan.sig[id - plan.begin] != kNone) {
    const uint32_t li = id - plan.begin;
    const Group& P = st.groups[plan_gbegin + plan.local_group[li]];
    if (P.kind == GroupKind::Batched && P.value_base) {
      *elems = plan.elems[li];
      return P.value_base + size_t(plan.moff[li]) * es;
    }
  }
  const Node& X = g.node(id);
  *elems = X.shape.total();
  return static_cast<const char*>(X.value);
}

void* Autobatch::Impl::gather(Graph& g, const Node& A, const uint32_t* mem, uint32_t k, uint32_t arg,
                              uint32_t* ids, bool* contiguous) {
  const size_t es = dtype_size(A.dtype);
  stats.operand_elements += uint64_t(A.shape.total());
  for (uint32_t j = 0; j < k; ++j) ids[j] = plan.arg(mem[j], arg);
  int64_t n = 0;
  const char* first = value_of(g, ids[0], &n, es);
  const char* expect = first + size_t(n) * es;
  bool cont = true;
  for (uint32_t j = 1; j < k && cont; ++j) {
    const char* v = value_of(g, ids[j], &n, es);
    cont = v == expect;
    expect = v + size_t(n) * es;
  }
  *contiguous = cont;
  if (cont) return const_cast<char*>(first);

  const auto t0 = Clock::now();
  char* buf = static_cast<char*>(g.alloc(size_t(A.shape.total()) * es));
  Backend& be = g.backend();
  size_t at = 0;
  for (uint32_t j = 0; j < k;) {
    int64_t m = 0;
    const char* src = value_of(g, ids[j], &m, es);
    size_t len = size_t(m);
    // Runs of arguments that follow one another in memory are one copy.
    uint32_t e = j + 1;
    for (; e < k; ++e) {
      const char* v = value_of(g, ids[e], &m, es);
      if (v != src + len * es) break;
      len += size_t(m);
    }
    segs.add(buf + at * es, src, int64_t(len));
    at += len;
    j = e;
  }
  segs.run(be, A.dtype, false);
  stats.copied_elements += uint64_t(A.shape.total());
  stats.copy_seconds += autobatch::seconds_since(t0);
  return buf;
}

bool Autobatch::Impl::run_batched(Graph& g, uint32_t gi) {
  const Group G = st.groups[gi];
  const uint32_t* mem = &st.members[G.mbegin];
  const uint32_t k = G.mcount;
  const Node& n0 = g.node(mem[0]);
  const ops::OpDef& d = ops::def(n0.op);
  const DType t = n0.dtype;
  const size_t es = dtype_size(t);
  const uint32_t nargs = n0.nargs;

  int64_t total = 0, batch = 0;
  for (uint32_t j = 0; j < k; ++j) {
    const uint32_t li = mem[j] - plan.begin;
    st.melem[G.mbegin + j] = plan.elems[li];
    plan.moff[li] = total;
    total += plan.elems[li];
    batch += plan.nbatch[li];
  }
  if (G.value_base && total != plan.gelems[gi - plan_gbegin]) throw Error("autobatch: memory plan out of step");
  const Shape ys = G.flat ? Shape({total}) : n0.shape.with_batch(batch);

  // Per-example index lists, concatenated (one id repeated where it stood for a whole batch).
  Attrs at = n0.attrs;
  at.aux = nullptr;
  if (has_indices(n0.op)) {
    int32_t* idx = g.alloc_indices(size_t(batch));
    int64_t pos = 0;
    for (uint32_t j = 0; j < k; ++j) {
      const Node& m = g.node(mem[j]);
      const int64_t nb = m.shape.batch();
      if (m.attrs.n_idx == nb)
        std::copy(m.attrs.idx, m.attrs.idx + nb, idx + pos);
      else if (m.attrs.n_idx == 1)
        std::fill(idx + pos, idx + pos + nb, m.attrs.idx[0]);
      else
        return false;
      pos += nb;
    }
    at.idx = idx;
    at.n_idx = batch;
  }

  // Which arguments stay shared: broadcast arguments and parameters (their identity is part of
  // the signature), lookup tables, and batch-1 arguments that happen to be one node for all.
  // Affine's x operands are always stacked: its forward reads a batch-1 x as if it had the
  // output's batch (a kernel bug that eager mode shares when it mixes such pairs).
  uint64_t shared = 0;
  if (!G.flat)
    for (uint32_t i = 0; i < nargs && i < 64; ++i) {
      const uint32_t a0 = plan.arg(mem[0], i);
      const Node& A0 = g.node(a0);
      if (A0.shape.batch() != n0.shape.batch()) {
        shared |= uint64_t(1) << i;
        continue;
      }
      if (n0.op == OpId::Affine && i >= 2 && i % 2 == 0) continue;
      bool s = A0.op == OpId::Param || (d.batching == ops::BatchKind::Lookup && i == 0);
      if (!s && A0.shape.batch() == 1) {
        s = true;
        for (uint32_t j = 1; j < k && s; ++j) s = plan.arg(mem[j], i) == a0;
      }
      if (s) shared |= uint64_t(1) << i;
    }

  // Synthetic argument nodes (shapes only, for the check).
  ptrs.resize(nargs);
  const size_t syn_mark = st.syn.size();
  auto build_args = [&](uint64_t mask) {
    st.syn.shrink(syn_mark);
    for (uint32_t i = 0; i < nargs; ++i) {
      Node& A0 = g.node(plan.arg(mem[0], i));
      if (i < 64 && (mask >> i & 1)) {
        ptrs[i] = &A0;
        continue;
      }
      Node& A = st.syn.emplace();
      A.op = OpId::Input;
      A.dtype = A0.dtype;
      A.needs_grad = A0.needs_grad;
      if (G.flat) {
        A.shape = Shape({total});  // flat: every argument has its member's shape
      } else {
        A.shape = A0.shape.with_batch(A0.shape.batch() * k);
      }
      ptrs[i] = &A;
    }
  };
  autobatch::Plan::Sig& sig = plan.sigs[G.sig];
  // Random ops stack their argument always: run_random reads it element by element.
  uint64_t mask = is_random(n0.op) ? 0 : shared;
  const bool cacheable = nargs <= 64;
  if (G.flat || is_random(n0.op)) {
    build_args(mask);
  } else if (cacheable && sig.checked && sig.checked_mask == shared) {
    if (sig.checked == 3) return false;
    if (sig.checked == 2) mask = 0;
    build_args(mask);
  } else {
    build_args(mask);
    uint8_t outcome = 1;
    if (!rule_accepts(d, n0.op, ptrs.data(), int(nargs), at, t, ys)) {
      outcome = 2;
      mask = 0;
      build_args(mask);
      if (!rule_accepts(d, n0.op, ptrs.data(), int(nargs), at, t, ys)) outcome = 3;
    }
    if (cacheable) {
      sig.checked = outcome;
      sig.checked_mask = shared;
    }
    if (outcome == 3) {
      st.syn.shrink(syn_mark);
      return false;
    }
  }

  // Data: the members' arguments in place or gathered, and one block for every output.
  Group& GR = st.groups[gi];
  GR.abegin = uint32_t(st.args.size());
  {
    size_t next_syn = syn_mark;
    for (uint32_t i = 0; i < nargs; ++i) {
      if (i < 64 && (mask >> i & 1)) {
        autobatch::ArgRef r;
        r.kind = ArgKind::Shared;
        r.ref = plan.arg(mem[0], i);
        materialize(g, r.ref);
        st.args.push_back(r);
        continue;
      }
      Node& A = st.syn[next_syn];
      autobatch::ArgRef r;
      r.kind = ArgKind::Stacked;
      r.ref = uint32_t(next_syn);
      r.ids = uint32_t(st.margs.size());
      st.margs.resize(st.margs.size() + k);
      A.value = gather(g, A, mem, k, i, &st.margs[r.ids], &r.contiguous);
      st.args.push_back(r);
      ++next_syn;
    }
  }
  char* base = G.value_base ? G.value_base : static_cast<char*>(g.alloc(size_t(total) * es));
  GR.value_base = base;
  GR.elems = total;
  Node& y = st.syn.emplace();
  y = Node(n0.op, t, n0.needs_grad, 0u, nargs, ys, at);
  y.value = base;
  GR.syn = uint32_t(st.syn.size() - 1);

  if (is_random(n0.op))
    run_random(g, y, *ptrs[0], mem, k, G.flat);
  else
    d.forward(ops::Ctx{g.backend(), &g, y, ptrs.data(), int(nargs)});

  // Members' values are slices of the block (forward() tells them at the end); the aux scratch
  // some ops keep for backward is sliced for them here, so eager backward_node works on them.
  if (y.attrs.aux) {
    const size_t aux_per_example = n0.op == OpId::Dropout ? 0 : size_t(ptrs[0]->shape.size());
    int64_t boff = 0;
    for (uint32_t j = 0; j < k; ++j) {
      const uint32_t li = mem[j] - plan.begin;
      g.node(mem[j]).attrs.aux = static_cast<char*>(y.attrs.aux) +
                                 (n0.op == OpId::Dropout ? size_t(plan.moff[li]) : size_t(boff) * aux_per_example) * es;
      boff += plan.nbatch[li];
    }
  }
  if (g.check_finite() && !g.backend().all_finite(t, base, total))
    for (uint32_t j = 0; j < k; ++j) {
      const uint32_t li = mem[j] - plan.begin;
      if (!g.backend().all_finite(t, base + size_t(plan.moff[li]) * es, plan.elems[li])) value_anomaly(g, mem[j], k);
    }

  ++stats.forward_kernels;
  ++stats.batched_groups;
  stats.batched_nodes += k;
  stats.nodes += k;
  stats.value_elements += uint64_t(total);
  return true;
}

// Dropout and gaussian noise, as their ops compute them, except that each member draws the
// numbers eager mode would have given it (its own offset in the graph's stream), so seeded runs
// match eager mode exactly however the nodes were grouped. Members whose offsets follow one
// another draw in one call.
void Autobatch::Impl::run_random(Graph& g, Node& y, Node& x, const uint32_t* mem, uint32_t k, bool) {
  Backend& be = g.backend();
  const DType t = y.dtype;
  const size_t es = dtype_size(t);
  const int64_t n = y.shape.total();
  const bool drop = y.op == OpId::Dropout;
  const double p = y.attrs.f[0];
  char* out = static_cast<char*>(drop ? g.alloc(size_t(n) * es) : y.value);
  if (drop) y.attrs.aux = out;
  int64_t at = 0;
  for (uint32_t j = 0; j < k;) {
    const uint64_t o = plan.rnd_off[mem[j] - plan.begin];
    int64_t len = plan.elems[mem[j] - plan.begin];
    uint32_t e = j + 1;
    while (e < k && plan.rnd_off[mem[e] - plan.begin] == o + uint64_t(len)) len += plan.elems[mem[e++] - plan.begin];
    if (drop)
      be.random(Dist::Bernoulli, t, out + size_t(at) * es, len, 1.0 - p, 1.0 / (1.0 - p), g.seed(), o);
    else
      be.random(Dist::Normal, t, out + size_t(at) * es, len, 0.0, p, g.seed(), o);
    at += len;
    j = e;
  }
  if (drop) {
    Bcast bc;
    bc.n = n;
    be.binary(Binary::Mul, t, y.value, x.value, out, bc);
  } else {
    be.axpy(t, y.value, x.value, n, 1.0);
  }
}

}  // namespace flare
