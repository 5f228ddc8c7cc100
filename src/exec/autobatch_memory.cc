// The auto-batcher's memory plan: where each batched group's output block goes.
//
// plan_layout() orders each group's members so that a consumer that reads one producer finds
// its arguments contiguous. A consumer often reads several producers through one argument,
// though: an LSTM step's f*c and i*g have one signature, so they are one group whose first
// argument is [f..., i...], drawn from two slice groups. Such an argument is one slice only if
// the producers' blocks sit next to each other in memory, in that order. So before anything
// runs, every batched group of the call gets its place in ONE region: consumers are visited in
// schedule order (earliest first, they win conflicts), and for each stacked argument whose
// members come from whole blocks (the first may be a block's tail, the last a block's head)
// the blocks are linked into a chain, placed back to back. A block has at most one successor
// and one predecessor, and links never close a cycle; an argument whose links cannot all be
// made gets none. Chains are then laid out in schedule order, each starting 64-byte aligned.
// Backward lays gradients out chain by chain in the same way (autobatch_backward.cc), so what
// was contiguous in values is contiguous in gradients too.
#include "exec/autobatch_impl.h"

namespace flare {

using autobatch::kNone;

void Autobatch::Impl::plan_memory(Graph& g) {
  autobatch::Plan& p = plan;
  const uint32_t ng = uint32_t(p.gsize.size());
  const std::vector<uint32_t>& goff = p.goff;
  p.pos.assign(p.n, 0);
  p.gelems.assign(ng, 0);
  p.succ.assign(ng, kNone);
  p.pred.assign(ng, kNone);
  p.gbyte.assign(ng, 0);
  p.stamp.assign(ng, kNone);
  for (uint32_t gi = 0; gi < ng; ++gi) {
    int64_t at = 0;
    for (uint32_t k = goff[gi]; k < goff[gi + 1]; ++k) {
      const uint32_t li = p.order[k] - p.begin;
      p.pos[li] = k - goff[gi];
      p.moff[li] = at;
      at += p.elems[li];
    }
    p.gelems[gi] = at;
  }
  auto batched = [&p](uint32_t a) { return p.batched_producer(a); };

  // Links, consumer by consumer.
  uint32_t tick = 0;
  for (uint32_t C = 0; C < ng; ++C) {
    const uint32_t nargs = p.nargs(p.order[goff[C]]);
    for (uint32_t j = 0; j < nargs; ++j) {
      ++tick;
      p.runs.clear();
      bool ok = true;
      for (uint32_t k = goff[C]; k < goff[C + 1] && ok; ++k) {
        const uint32_t a = p.arg(p.order[k], j);
        const uint32_t P = batched(a);
        if (P == kNone || P == C) {
          ok = false;
          break;
        }
        const uint32_t q = p.pos[a - p.begin];
        if (!p.runs.empty() && p.runs.back().group == P && q == p.runs.back().last + 1)
          p.runs.back().last = q;
        else
          p.runs.push_back({P, q, q});
      }
      if (!ok || p.runs.size() < 2) continue;
      // Whole blocks in the middle, a tail first and a head last, each block once.
      const size_t R = p.runs.size();
      for (size_t r = 0; r < R && ok; ++r) {
        const autobatch::Plan::Run& x = p.runs[r];
        if (r + 1 < R) ok = x.last == p.gsize[x.group] - 1;
        if (ok && r > 0) ok = x.first == 0;
        if (ok) ok = p.stamp[x.group] != tick;
        p.stamp[x.group] = tick;
      }
      for (size_t r = 0; r + 1 < R && ok; ++r) {
        const uint32_t A = p.runs[r].group, B = p.runs[r + 1].group;
        ok = (p.succ[A] == kNone || p.succ[A] == B) && (p.pred[B] == kNone || p.pred[B] == A);
      }
      if (!ok) continue;
      // Link, then undo if that closed a cycle (or made a chain too long to check cheaply).
      p.undo.clear();
      for (size_t r = 0; r + 1 < R; ++r) {
        const uint32_t A = p.runs[r].group, B = p.runs[r + 1].group;
        if (p.succ[A] == B) continue;
        p.succ[A] = B;
        p.pred[B] = A;
        p.undo.emplace_back(A, B);
      }
      const uint32_t start = p.runs[0].group;
      uint32_t at = p.pred[start];
      int steps = 0;
      while (at != kNone && at != start && ++steps < 256) at = p.pred[at];
      if (at != kNone) {
        for (const auto& [A, B] : p.undo) {
          p.succ[A] = kNone;
          p.pred[B] = kNone;
        }
      }
    }
  }

  // Place the chains.
  size_t off = 0;
  for (uint32_t gi = 0; gi < ng; ++gi) {
    if (p.gsize[gi] < 2 || p.pred[gi] != kNone) continue;
    off = (off + 63) & ~size_t(63);
    for (uint32_t c = gi; c != kNone; c = p.succ[c]) {
      p.gbyte[c] = off;
      off += size_t(p.gelems[c]) * dtype_size(g.node(p.order[goff[c]]).dtype);
    }
  }
  p.region_bytes = off;
}

}  // namespace flare
