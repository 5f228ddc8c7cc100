// The auto-batcher's planning: signatures, the schedule of groups, and the order of each
// group's members (which decides where values land in memory).
//
// Signature. Two pending nodes may run as one call when they have the same op, dtype, attributes
// (except per-example index lists, which are concatenated), output shape, and per argument the
// same shape, the same needs-gradient flag and, where the argument must be shared rather than
// stacked, the same identity. An argument must be shared when it is a parameter (every
// example's g.param(W) is a different node over the same Parameter, so identity is the
// Parameter), when it is a lookup's table, and when it is batch 1 against a batched node (it
// broadcasts, so stacking would change its meaning). Element-wise ops whose arguments all have
// the output's shape drop shapes from the signature ("flat": one call over every member's
// elements, whatever their shapes). Ops whose registry entry says BatchKind::None run alone.
//
// Schedule. DyNet's by-agenda heuristic: each signature's priority is the average depth of its
// pending nodes (depth = longest path from a computed node); repeatedly take the signature with
// ready nodes whose priority is lowest and run all its ready nodes as one group. Shallow kinds
// of node go first, so a kind that recurs along chains (an LSTM step) waits until every
// example's chain has reached it. Ready nodes whose widest argument comes from a few different
// batched groups run as one group per producer (add_groups). The by-depth alternative groups
// nodes of equal depth and signature.
//
// Layout (our addition to DyNet's scheme). Before anything runs, every group's member order is
// chosen so that its consumers find their stacked arguments contiguous: groups are visited from
// the last scheduled to the first, and a group's members are ordered as its consumer groups
// read them, earliest consumer first, argument position by argument position. For a batch of
// LSTM chains this orders each step's group as the next step reads it, with the examples that
// end at this step last, so every step's state arguments are a prefix of the previous step's
// output block (no copy); a lookup group of all tokens is laid out time-major, so each step's
// inputs are one contiguous run.
#include <algorithm>
#include <cstring>

#include "exec/autobatch_impl.h"

namespace flare {

using autobatch::kNone;

namespace {

uint64_t mix(uint64_t z) {
  z += 0x9e3779b97f4a7c15ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

bool is_random(OpId op) { return op == OpId::Dropout || op == OpId::GaussianNoise; }

}  // namespace

void Autobatch::Impl::sign_nodes(Graph& g, uint32_t begin, uint32_t end) {
  autobatch::Plan& p = plan;
  const uint32_t n = end - begin;
  p.begin = begin;
  p.n = n;
  p.sig.assign(n, kNone);
  p.deps.assign(n, 0);
  p.depth.assign(n, 0);
  p.rnd_off.assign(n, 0);
  p.cons_begin.assign(size_t(n) + 1, 0);
  p.abeg.resize(size_t(n) + 1);
  p.elems.resize(n);
  p.nbatch.resize(n);
  p.aid.clear();
  p.sigs.clear();
  p.key_pool.clear();
  if (p.table.size() < 256) p.table.resize(256);
  std::fill(p.table.begin(), p.table.end(), 0u);

  // Random ops draw from the graph's stream in recording order in eager mode; the executor
  // gives each node the offset it would have had there, whatever order the groups run in.
  const uint64_t rnd_base = g.take_random(0);
  uint64_t rnd_used = 0;
  const bool never_batch = opt.strategy == BatchStrategy::none;
  std::vector<int64_t>& key = p.key;

  for (uint32_t id = begin; id < end; ++id) {
    const Node& nd = g.node(id);
    const uint32_t li = id - begin;
    p.abeg[li] = uint32_t(p.aid.size());
    p.elems[li] = nd.shape.total();
    p.nbatch[li] = nd.shape.batch();
    if (nd.value) continue;  // leaves (inputs, parameters) come with their values
    const uint32_t* a = g.args(nd);
    p.aid.insert(p.aid.end(), a, a + nd.nargs);
    uint32_t deps = 0, depth = 0;
    for (uint32_t k = 0; k < nd.nargs; ++k) {
      const uint32_t ai = a[k];
      if (ai < begin || p.sig[ai - begin] == kNone) continue;
      ++deps;
      depth = std::max(depth, p.depth[ai - begin] + 1);
      ++p.cons_begin[ai - begin + 1];
    }
    p.deps[li] = deps;
    p.depth[li] = depth;
    if (is_random(nd.op)) {
      p.rnd_off[li] = rnd_base + rnd_used;
      rnd_used += uint64_t(nd.shape.total());
    }

    const ops::OpDef& d = ops::def(nd.op);
    const bool solo = never_batch || d.batching == ops::BatchKind::None;
    bool flat = !solo && opt.flat_elementwise && d.batching == ops::BatchKind::Elementwise;
    // The key, written through a pointer into room for the longest one.
    key.resize(16 + 8 * size_t(nd.nargs));
    int64_t* kp = key.data();
    auto put_shape = [&kp](const Shape& sh) {
      *kp++ = sh.nd();
      for (int q = 0; q < sh.nd(); ++q) *kp++ = sh.dim(q);
      *kp++ = sh.batch();
    };
    *kp++ = int64_t(nd.op) | int64_t(nd.dtype) << 16 | int64_t(nd.needs_grad) << 24 | int64_t(solo) << 25 |
            int64_t(nd.nargs) << 32;
    if (!solo) {
      for (uint32_t k = 0; k < nd.nargs && flat; ++k) {
        const Node& A = g.node(a[k]);
        flat = A.op != OpId::Param && A.shape == nd.shape;
      }
      *kp++ = flat;
      for (int k = 0; k < 6; ++k) *kp++ = nd.attrs.i[k];
      std::memcpy(kp, nd.attrs.f, sizeof nd.attrs.f);
      kp += 2;
      if (!flat) put_shape(nd.shape);
      for (uint32_t k = 0; k < nd.nargs; ++k) {
        const Node& A = g.node(a[k]);
        *kp++ = A.needs_grad;
        if (flat) continue;
        put_shape(A.shape);
        int64_t ident = 0;
        if (A.op == OpId::Param)
          ident = int64_t(reinterpret_cast<uintptr_t>(A.attrs.param));
        else if ((d.batching == ops::BatchKind::Lookup && k == 0) || A.shape.batch() != nd.shape.batch())
          ident = -int64_t(a[k]) - 1;
        *kp++ = ident;
      }
    }
    key.resize(size_t(kp - key.data()));

    // Intern the key.
    // One multiply per word (two independent lanes), mixed once at the end: keys are compared
    // in full on a hit, so the hash only has to spread them.
    uint64_t h0 = 0x84222325cbf29ce4ULL, h1 = uint64_t(key.size());
    size_t q = 0;
    for (; q + 1 < key.size(); q += 2) {
      h0 = (h0 + uint64_t(key[q])) * 0x9e3779b97f4a7c15ULL;
      h1 = (h1 + uint64_t(key[q + 1])) * 0xc2b2ae3d27d4eb4fULL;
    }
    if (q < key.size()) h0 = (h0 + uint64_t(key[q])) * 0x9e3779b97f4a7c15ULL;
    const uint64_t h = mix(h0 ^ (h1 >> 29 | h1 << 35));
    if (p.sigs.size() * 2 >= p.table.size()) {
      p.table.assign(p.table.size() * 2, 0u);
      for (uint32_t s = 0; s < p.sigs.size(); ++s) {
        size_t slot = p.sigs[s].hash & (p.table.size() - 1);
        while (p.table[slot]) slot = (slot + 1) & (p.table.size() - 1);
        p.table[slot] = s + 1;
      }
    }
    size_t slot = h & (p.table.size() - 1);
    uint32_t sig = kNone;
    while (p.table[slot]) {
      const autobatch::Plan::Sig& s = p.sigs[p.table[slot] - 1];
      if (s.hash == h && s.key_len == key.size() &&
          std::equal(key.begin(), key.end(), p.key_pool.begin() + s.key_off)) {
        sig = p.table[slot] - 1;
        break;
      }
      slot = (slot + 1) & (p.table.size() - 1);
    }
    if (sig == kNone) {
      sig = uint32_t(p.sigs.size());
      autobatch::Plan::Sig s{};
      s.hash = h;
      s.key_off = uint32_t(p.key_pool.size());
      s.key_len = uint32_t(key.size());
      s.solo = solo;
      s.flat = flat;
      p.key_pool.insert(p.key_pool.end(), key.begin(), key.end());
      p.sigs.push_back(s);
      p.table[slot] = sig + 1;
    }
    p.sigs[sig].depth_sum += depth;
    ++p.sigs[sig].count;
    p.sig[li] = sig;
  }
  p.abeg[n] = uint32_t(p.aid.size());
  if (rnd_used) g.take_random(rnd_used);

  // In-range consumers of each pending node (with multiplicity, matching deps).
  for (uint32_t i = 0; i < n; ++i) p.cons_begin[i + 1] += p.cons_begin[i];
  p.cons.resize(p.cons_begin[n]);
  p.tmp.assign(p.cons_begin.begin(), p.cons_begin.end() - 1);
  for (uint32_t li = 0; li < n; ++li) {
    if (p.sig[li] == kNone) continue;
    for (uint32_t k = p.abeg[li]; k < p.abeg[li + 1]; ++k) {
      const uint32_t a = p.aid[k];
      if (a >= begin && p.sig[a - begin] != kNone) p.cons[p.tmp[a - begin]++] = begin + li;
    }
  }
  p.order.clear();
  p.gsize.clear();
  p.gsig.clear();
  p.local_group.assign(n, kNone);
}

namespace {

void add_group(autobatch::Plan& p, const uint32_t* members, size_t n, uint32_t s) {
  const uint32_t gi = uint32_t(p.gsize.size());
  for (size_t k = 0; k < n; ++k) {
    p.order.push_back(members[k]);
    p.local_group[members[k] - p.begin] = gi;
  }
  p.gsize.push_back(uint32_t(n));
  p.gsig.push_back(s);
}

// Ready nodes of one signature run as one group, except where their widest stacked argument is
// at least twice as wide as their own values and comes from a few different batched groups:
// then one group per producer. A bi-LSTM's two directions share the signatures of their cell
// ops (lstm_state and lstm_output have no weights) but read their gates from one affine group
// per direction; as one group, the order the next step wants interleaves the directions, and
// the gates, four times as wide as the states, were gathered every step forward and scattered
// backward. Split, each direction is a chain of its own whose arguments are all slices; the
// price is one more cell kernel call per step, whose rows are independent anyway.
void add_groups(autobatch::Plan& p, const std::vector<uint32_t>& cur, uint32_t s) {
  const uint32_t first = cur[0];
  uint32_t widest = kNone;
  int64_t width = 0;
  for (uint32_t j = 0, na = p.nargs(first); j < na; ++j) {
    const uint32_t a = p.arg(first, j);
    if (p.batched_producer(a) == kNone) continue;
    const int64_t w = p.elems[a - p.begin];
    if (w > width) widest = j, width = w;
  }
  constexpr size_t kMaxProducers = 4;  // beyond a few, splitting would cost more calls than it saves
  uint32_t prods[kMaxProducers];
  size_t np = 0;
  if (cur.size() >= 2 && widest != kNone && width >= 2 * p.elems[first - p.begin]) {
    for (uint32_t m : cur) {
      const uint32_t P = p.batched_producer(p.arg(m, widest));
      if (std::find(prods, prods + np, P) != prods + np) continue;
      if (np == kMaxProducers) {
        np = 0;
        break;
      }
      prods[np++] = P;
    }
  }
  if (np < 2) {
    add_group(p, cur.data(), cur.size(), s);
    return;
  }
  std::vector<uint32_t>& part = p.part;
  for (size_t q = 0; q < np; ++q) {
    part.clear();
    for (uint32_t m : cur)
      if (p.batched_producer(p.arg(m, widest)) == prods[q]) part.push_back(m);
    add_group(p, part.data(), part.size(), s);
  }
}

// Appends the ready nodes `cur` of signature s to the schedule (one group, or a few: see
// add_groups) and releases the nodes that become ready; `push` receives them.
template <typename Push>
void emit(autobatch::Plan& p, std::vector<uint32_t>& cur, uint32_t s, Push push) {
  std::sort(cur.begin(), cur.end());
  if (p.sigs[s].solo) {
    for (uint32_t m : cur) add_group(p, &m, 1, s);
  } else {
    add_groups(p, cur, s);
  }
  for (uint32_t m : cur) {
    const uint32_t li = m - p.begin;
    for (uint32_t c = p.cons_begin[li]; c < p.cons_begin[li + 1]; ++c) {
      const uint32_t ci = p.cons[c] - p.begin;
      if (--p.deps[ci] == 0) push(p.cons[c]);
    }
  }
}

}  // namespace

void Autobatch::Impl::schedule_agenda() {
  autobatch::Plan& p = plan;
  const size_t nsig = p.sigs.size();
  if (p.ready.size() < nsig) p.ready.resize(nsig);
  for (size_t s = 0; s < nsig; ++s) p.ready[s].clear();
  p.active.clear();
  auto push = [&](uint32_t id) {
    const uint32_t s = p.sig[id - p.begin];
    if (p.ready[s].empty()) p.active.push_back(s);
    p.ready[s].push_back(id);
  };
  for (uint32_t i = 0; i < p.n; ++i)
    if (p.sig[i] != kNone && p.deps[i] == 0) push(p.begin + i);
  std::vector<uint32_t> cur;
  while (!p.active.empty()) {
    size_t best = 0;
    double best_avg = 0;
    for (size_t k = 0; k < p.active.size(); ++k) {
      const autobatch::Plan::Sig& s = p.sigs[p.active[k]];
      const double avg = s.depth_sum / s.count;
      if (k == 0 || avg < best_avg || (avg == best_avg && p.active[k] < p.active[best])) {
        best = k;
        best_avg = avg;
      }
    }
    const uint32_t s = p.active[best];
    p.active[best] = p.active.back();
    p.active.pop_back();
    cur.clear();
    std::swap(cur, p.ready[s]);
    emit(p, cur, s, push);
  }
}

void Autobatch::Impl::schedule_depth() {
  autobatch::Plan& p = plan;
  std::vector<uint32_t>& ids = p.tmp;
  ids.clear();
  for (uint32_t i = 0; i < p.n; ++i)
    if (p.sig[i] != kNone) ids.push_back(p.begin + i);
  std::sort(ids.begin(), ids.end(), [&](uint32_t x, uint32_t y) {
    const uint32_t dx = p.depth[x - p.begin], dy = p.depth[y - p.begin];
    if (dx != dy) return dx < dy;
    const uint32_t sx = p.sig[x - p.begin], sy = p.sig[y - p.begin];
    return sx != sy ? sx < sy : x < y;
  });
  std::vector<uint32_t> cur;
  for (size_t k = 0; k < ids.size();) {
    size_t e = k + 1;
    const uint32_t s = p.sig[ids[k] - p.begin], d = p.depth[ids[k] - p.begin];
    while (e < ids.size() && p.sig[ids[e] - p.begin] == s && p.depth[ids[e] - p.begin] == d) ++e;
    cur.assign(ids.begin() + long(k), ids.begin() + long(e));
    emit(p, cur, s, [](uint32_t) {});
    k = e;
  }
}

void Autobatch::Impl::schedule_none() {
  autobatch::Plan& p = plan;
  for (uint32_t i = 0; i < p.n; ++i) {
    if (p.sig[i] == kNone) continue;
    const uint32_t id = p.begin + i;
    add_group(p, &id, 1, p.sig[i]);
  }
}

void Autobatch::Impl::index_groups() {
  autobatch::Plan& p = plan;
  const uint32_t ng = uint32_t(p.gsize.size());
  p.goff.assign(size_t(ng) + 1, 0);
  for (uint32_t gi = 0; gi < ng; ++gi) p.goff[gi + 1] = p.goff[gi] + p.gsize[gi];
}

void Autobatch::Impl::plan_layout() {
  autobatch::Plan& p = plan;
  const uint32_t ng = uint32_t(p.gsize.size());
  const std::vector<uint32_t>& goff = p.goff;
  auto producer = [&p](uint32_t a) { return p.batched_producer(a); };

  // Groups are visited last to first. A visited group's order is final, so it is scanned once,
  // argument position by argument position, and each argument that a batched producer made is
  // filed as a claim on that producer (one segment per consumer group, linked so that a
  // producer's segments run from its earliest consumer). When the visit reaches a producer,
  // every consumer has filed its claims: the producer takes the order they read it in, and its
  // members nobody claimed go last.
  p.seg.clear();
  p.claims.clear();
  p.seg_head.assign(ng, kNone);
  p.seg_mark.assign(ng, kNone);
  p.seg_slot.assign(ng, 0);
  p.seg_count.clear();
  p.placed.assign(p.n, 0);
  std::vector<std::pair<uint32_t, uint32_t>>& found = p.found;  // (producer, argument)
  std::vector<uint32_t>& fresh = p.tmp;
  for (uint32_t C = ng; C-- > 0;) {
    if (p.gsize[C] >= 2 && p.seg_head[C] != kNone) {
      fresh.clear();
      for (uint32_t s = p.seg_head[C]; s != kNone; s = p.seg[s].next)
        for (uint32_t c = p.seg[s].begin; c < p.seg[s].end; ++c) {
          const uint32_t la = p.claims[c] - p.begin;
          if (p.placed[la]) continue;
          p.placed[la] = 1;
          fresh.push_back(p.claims[c]);
        }
      for (uint32_t k = goff[C]; k < goff[C + 1]; ++k) {
        const uint32_t la = p.order[k] - p.begin;
        if (!p.placed[la]) {
          p.placed[la] = 1;
          fresh.push_back(p.order[k]);
        }
      }
      std::copy(fresh.begin(), fresh.end(), p.order.begin() + goff[C]);
    }
    // File C's claims.
    found.clear();
    const uint32_t nargs = p.nargs(p.order[goff[C]]);
    for (uint32_t j = 0; j < nargs; ++j)
      for (uint32_t k = goff[C]; k < goff[C + 1]; ++k) {
        const uint32_t a = p.arg(p.order[k], j);
        const uint32_t P = producer(a);
        if (P != kNone && P != C) found.emplace_back(P, a);
      }
    if (found.empty()) continue;
    // One segment per producer, in the order the producers first appear, claims in scan order
    // (a counting sort: no allocation, linear).
    const size_t base = p.claims.size();
    p.claims.resize(base + found.size());
    uint32_t nseg = 0;
    for (const auto& f : found) {
      if (p.seg_mark[f.first] != C) {
        p.seg_mark[f.first] = C;
        p.seg_slot[f.first] = nseg++;
        p.seg_count.push_back(0);
      }
      ++p.seg_count[p.seg_count.size() - nseg + p.seg_slot[f.first]];
    }
    // Segment starts (relative to base), then scatter.
    const size_t cbase = p.seg_count.size() - nseg;
    uint32_t acc = 0;
    for (uint32_t q = 0; q < nseg; ++q) {
      const uint32_t c = p.seg_count[cbase + q];
      p.seg_count[cbase + q] = acc;
      acc += c;
    }
    for (const auto& f : found) p.claims[base + p.seg_count[cbase + p.seg_slot[f.first]]++] = f.second;
    uint32_t start = 0;
    for (const auto& f : found) {
      if (p.seg_mark[f.first] != C) continue;  // segment already filed
      p.seg_mark[f.first] = C + 0x80000000u;
      const uint32_t q = p.seg_slot[f.first];
      const uint32_t end = p.seg_count[cbase + q];
      start = q == 0 ? 0 : p.seg_count[cbase + q - 1];
      p.seg.push_back({uint32_t(base + start), uint32_t(base + end), p.seg_head[f.first]});
      p.seg_head[f.first] = uint32_t(p.seg.size() - 1);
    }
    p.seg_count.resize(cbase);
  }
}

}  // namespace flare
