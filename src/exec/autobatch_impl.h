#pragma once
// The auto-batcher's state, shared by its files: signatures and scheduling
// (autobatch_schedule.cc), running groups forward (autobatch_forward.cc) and backward
// (autobatch_backward.cc), and the public glue (autobatch.cc). docs/autobatch.md explains the
// design; the comments here say what each piece holds.
#include <chrono>
#include <cstdint>
#include <deque>
#include <vector>

#include "flare/autobatch.h"
#include "ops/registry.h"

namespace flare {

namespace autobatch {

constexpr uint32_t kNone = 0xffffffffu;

/// How a group runs.
enum class GroupKind : uint8_t {
  Solo,     // each member alone, through Graph::forward_node / backward_node
  Batched,  // one call of the op on a synthetic node
};

/// Where a synthetic node's argument comes from.
enum class ArgKind : uint8_t {
  Shared,   // one real node for every member (a parameter, or the same node): batch 1
  Stacked,  // the members' arguments concatenated along the batch (a synthetic node)
};

struct Group {
  OpId op = OpId::Input;
  GroupKind kind = GroupKind::Solo;
  bool flat = false;            // element-wise over shapes that differ: synthetic shape [n]
  uint32_t sig = kNone;         // signature within the forward call that scheduled it
  uint32_t mbegin = 0, mcount = 0;  // members, in run order, in State::members
  uint32_t syn = kNone;         // Batched: the synthetic node in State::syn
  uint32_t abegin = 0;          // Batched: nargs entries in State::args
};

/// A synthetic node's argument: a real node (Shared) or a synthetic one in State::syn.
struct ArgRef {
  ArgKind kind;
  uint32_t ref;
};

/// One contiguous range of node ids computed by one forward() call, and its groups.
struct Range {
  uint32_t begin, end;
  uint32_t gbegin, gend;
};

/// What one graph's computation left for backward. Valid while the graph keeps its epoch.
struct State {
  const Graph* graph = nullptr;
  uint64_t epoch = 0;
  std::vector<Group> groups;
  std::vector<uint32_t> members;
  std::vector<ArgRef> args;
  std::deque<Node> syn;           // synthetic nodes (outputs and stacked arguments); stable addresses
  std::vector<uint32_t> group_of; // node id -> group index (kNone: not computed here)
  std::vector<Range> ranges;

  void reset(const Graph& g) {
    graph = &g;
    epoch = g.epoch();
    groups.clear();
    members.clear();
    args.clear();
    syn.clear();
    group_of.clear();
    ranges.clear();
  }
};

/// Scratch of one forward() call, kept between calls for its capacity.
struct Plan {
  uint32_t begin = 0, n = 0;
  std::vector<uint32_t> sig;       // per pending node (index id - begin); kNone for done nodes
  std::vector<uint32_t> deps;      // unfinished in-range arguments
  std::vector<uint32_t> depth;
  std::vector<uint32_t> cons_begin, cons;  // CSR: in-range consumers of each node
  std::vector<uint64_t> rnd_off;   // random ops: the stream offset eager mode would have used
  std::vector<uint8_t> placed;
  // Signatures: interned keys.
  std::vector<int64_t> key, key_pool;
  struct Sig {
    uint64_t hash;
    uint32_t key_off, key_len;
    bool solo, flat;
    double depth_sum;
    uint32_t count;
    uint8_t checked;               // shape-rule check of the synthetic node: 0 unknown, 1 ok, 2 stack all, 3 solo
    uint64_t checked_mask;
  };
  std::vector<Sig> sigs;
  std::vector<uint32_t> table;     // open addressing: sig index + 1, 0 empty
  // Scheduling.
  std::vector<std::vector<uint32_t>> ready;
  std::vector<uint32_t> active;
  std::vector<uint32_t> order;     // members of the groups scheduled, group after group
  std::vector<uint32_t> gsize;     // size of each scheduled group
  std::vector<uint32_t> gsig;
  // Layout planning.
  std::vector<uint32_t> local_group;   // per pending node: scheduled group index
  std::vector<uint32_t> cg_begin, cg;  // CSR: consumer groups of each group
  std::vector<uint32_t> tmp;
};

using Clock = std::chrono::steady_clock;
inline double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

}  // namespace autobatch

struct Autobatch::Impl {
  explicit Impl(const AutobatchOptions& o) : opt(o) {}
  AutobatchOptions opt;
  AutobatchStats stats;
  autobatch::State st;
  autobatch::Plan plan;
  std::vector<Node*> ptrs;         // argument pointers of the op call being made
  std::vector<uint32_t> ids;       // scratch node ids

  // Scheduling (autobatch_schedule.cc): fills plan.order / gsize / gsig for [begin, end).
  void sign_nodes(Graph& g, uint32_t begin, uint32_t end);
  void schedule_agenda();
  void schedule_depth();
  void schedule_none();
  void plan_layout(Graph& g);

  // Forward (autobatch_forward.cc).
  void forward(Graph& g, uint32_t begin, uint32_t end);
  void run_group(Graph& g, uint32_t gi);
  bool run_batched(Graph& g, uint32_t gi);
  void run_solo(Graph& g, uint32_t id);
  void run_random(Graph& g, Node& y, Node& x, const uint32_t* members, uint32_t k, bool flat);
  void* gather(Graph& g, const Node& A, const uint32_t* members, uint32_t k, uint32_t arg);

  // Backward (autobatch_backward.cc).
  void backward(Graph& g, uint32_t root, const std::vector<uint8_t>& reach);
  void layout_grads(Graph& g, uint32_t root, const std::vector<uint8_t>& reach);
  void backward_group(Graph& g, uint32_t gi, uint32_t root, const std::vector<uint8_t>& reach);
};

}  // namespace flare
