#include "exec/memory_plan.h"

#include <algorithm>
#include <limits>

namespace flare::exec {
namespace {
size_t aligned(size_t bytes) { return (bytes + 63) & ~size_t(63); }
}  // namespace

MemoryPlan plan_memory(const std::vector<Lifetime>& buffers, bool reuse) {
  const size_t n = buffers.size();
  MemoryPlan plan;
  plan.offset.assign(n, 0);
  for (const Lifetime& b : buffers) plan.unshared += aligned(b.bytes);
  if (!reuse) {
    size_t at = 0;
    for (size_t i = 0; i < n; ++i) {
      plan.offset[i] = at;
      at += aligned(buffers[i].bytes);
    }
    plan.total = at;
    return plan;
  }

  std::vector<size_t> order(n);
  for (size_t i = 0; i < n; ++i) order[i] = i;
  // Largest first: they constrain placement most. Ties by start keep the result deterministic.
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    if (aligned(buffers[a].bytes) != aligned(buffers[b].bytes))
      return aligned(buffers[a].bytes) > aligned(buffers[b].bytes);
    return buffers[a].first < buffers[b].first;
  });

  std::vector<size_t> placed;  // indices, kept sorted by offset
  std::vector<size_t> overlapping;
  for (size_t i : order) {
    const Lifetime& b = buffers[i];
    const size_t size = aligned(b.bytes);
    overlapping.clear();
    for (size_t j : placed) {
      const Lifetime& o = buffers[j];
      if (o.first <= b.last && b.first <= o.last) overlapping.push_back(j);
    }
    // Scan the gaps between overlapping buffers (sorted by offset) for the tightest fit.
    size_t best = std::numeric_limits<size_t>::max(), best_gap = best, at = 0;
    for (size_t j : overlapping) {
      const size_t start = plan.offset[j];
      if (start > at && start - at >= size && start - at < best_gap) {
        best = at;
        best_gap = start - at;
      }
      at = std::max(at, start + aligned(buffers[j].bytes));
    }
    plan.offset[i] = best != std::numeric_limits<size_t>::max() ? best : at;
    plan.total = std::max(plan.total, plan.offset[i] + size);
    placed.insert(std::upper_bound(placed.begin(), placed.end(), i,
                                   [&](size_t a, size_t c) { return plan.offset[a] < plan.offset[c]; }),
                  i);
  }
  return plan;
}

}  // namespace flare::exec
