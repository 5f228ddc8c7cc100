#pragma once
// The auto-batcher's state, shared by its files: signatures and scheduling
// (autobatch_schedule.cc), running groups forward (autobatch_forward.cc) and backward
// (autobatch_backward.cc), and the public glue (autobatch.cc). docs/autobatch.md explains the
// design; the comments here say what each piece holds.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <utility>
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
  DType dtype = DType::f32;
  uint32_t sig = kNone;         // signature within the forward call that scheduled it
  uint32_t mbegin = 0, mcount = 0;  // members, in run order, in State::members (and melem)
  uint32_t syn = kNone;         // Batched: the synthetic node in State::syn
  uint32_t abegin = 0;          // Batched: nargs entries in State::args
  // Set by each backward's layout: every member reached, and the first member's gradient (the
  // members' gradients are then one slice, in member order).
  bool full = false;
  void* grad_base = nullptr;
  // Batched groups: their block, and the next block of the same chain (blocks placed one after
  // another so that a consumer reads across them as one slice; kNone at a chain's end).
  char* value_base = nullptr;
  int64_t elems = 0;            // Batched: elements of the block
  uint32_t chain_next = kNone;
  bool chain_head = false;
  // Set by each backward's layout: gradient = value + delta for every member (delta_ok).
  bool delta_ok = false;
  std::ptrdiff_t delta = 0;
};

/// A synthetic node's argument: a real node (Shared) or a synthetic one in State::syn whose
/// members' argument ids are State::margs[ids, ids + group size).
struct ArgRef {
  ArgKind kind;
  bool contiguous = false;  // Stacked: the members' values were one slice of one group's block
  uint32_t ref = 0;
  uint32_t ids = 0;
};

/// Synthetic nodes, at stable addresses, kept (with their memory) from one graph to the next.
class NodePool {
 public:
  Node& emplace() {
    if (size_ == chunks_.size() * kChunk) chunks_.push_back(std::make_unique<Node[]>(kChunk));
    Node& n = chunks_[size_ / kChunk][size_ % kChunk];
    ++size_;
    n = Node();
    return n;
  }
  Node& operator[](size_t i) { return chunks_[i / kChunk][i % kChunk]; }
  size_t size() const { return size_; }
  void shrink(size_t n) { size_ = n; }

 private:
  static constexpr size_t kChunk = 256;
  std::vector<std::unique_ptr<Node[]>> chunks_;
  size_t size_ = 0;
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
  std::vector<int64_t> melem;     // elements of each member's value
  std::vector<ArgRef> args;
  std::vector<uint32_t> margs;    // stacked arguments' node ids, member by member
  NodePool syn;                   // synthetic nodes (outputs and stacked arguments)
  std::vector<uint32_t> group_of; // node id -> group index (kNone: not computed here)
  std::vector<Range> ranges;
  bool relaid = false;            // the last backward laid gradients out by group

  void reset(const Graph& g) {
    graph = &g;
    epoch = g.epoch();
    groups.clear();
    members.clear();
    melem.clear();
    args.clear();
    margs.clear();
    syn.shrink(0);
    group_of.clear();
    ranges.clear();
  }
};

/// Scratch of one forward() call, kept between calls for its capacity.
struct Plan {
  uint32_t begin = 0, n = 0;
  std::vector<uint32_t> sig;       // per pending node (index id - begin); kNone for done nodes
  std::vector<uint32_t> abeg, aid; // CSR: each node's argument ids (read once from the graph)
  uint32_t nargs(uint32_t id) const { return abeg[id - begin + 1] - abeg[id - begin]; }
  uint32_t arg(uint32_t id, uint32_t k) const { return aid[abeg[id - begin] + k]; }
  std::vector<int64_t> elems;      // per node: elements of its value
  std::vector<int64_t> nbatch;     // per node: its batch size
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
  std::vector<uint32_t> part;      // scratch: one producer's share of a signature's ready nodes
  // Layout planning.
  std::vector<uint32_t> local_group;   // per pending node: scheduled group index (set as scheduled)
  /// The batched group (two or more members) of this call that computes node `a`; kNone for
  /// nodes computed before, and for groups of one.
  uint32_t batched_producer(uint32_t a) const {
    if (a < begin || sig[a - begin] == kNone) return kNone;
    const uint32_t P = local_group[a - begin];
    return gsize[P] >= 2 ? P : kNone;
  }
  std::vector<uint32_t> goff;          // first member of each scheduled group in `order`
  struct Seg {
    uint32_t begin, end, next;         // claims[begin, end) of one consumer group; next segment
  };
  std::vector<Seg> seg;
  std::vector<uint32_t> seg_head;      // per group: its earliest consumer's segment
  std::vector<uint32_t> claims;
  std::vector<uint32_t> seg_mark, seg_slot, seg_count;
  std::vector<std::pair<uint32_t, uint32_t>> found;
  // Memory planning (autobatch_memory.cc): where each batched group's block goes in the one
  // region allocated for the call.
  std::vector<uint32_t> pos;           // per pending node: position in its group
  std::vector<int64_t> moff;           // per pending node: element offset in its group's block
                                       // (planned here, set again when the group runs)
  std::vector<int64_t> gelems;         // per group: elements of its block
  std::vector<uint32_t> succ, pred;    // per group: the block placed right after / before it
  std::vector<size_t> gbyte;           // per group: byte offset of its block in the region
  std::vector<uint32_t> stamp;
  struct Run {
    uint32_t group, first, last;
  };
  std::vector<Run> runs;
  std::vector<std::pair<uint32_t, uint32_t>> undo;
  char* region = nullptr;
  size_t region_bytes = 0;
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
  uint32_t plan_gbegin = 0;        // index in st.groups of the plan's first group
  std::vector<size_t> gbytes_;     // backward layout scratch
  std::vector<uint8_t> chain_mirror_;
  std::vector<int64_t> poff_;      // per node: element offset of its gradient in its group's slot
  std::vector<uint32_t> ids;       // scratch node ids
  // The copies of one gather or scatter, made as one Backend::copy_segments call.
  struct Segments {
    std::vector<void*> dst;
    std::vector<const void*> src;
    std::vector<int64_t> n;
    void clear() { dst.clear(), src.clear(), n.clear(); }
    void add(void* d, const void* s, int64_t len) { dst.push_back(d), src.push_back(s), n.push_back(len); }
    void run(Backend& be, DType t, bool accumulate) {
      if (!n.empty()) be.copy_segments(t, dst.data(), src.data(), n.data(), int64_t(n.size()), accumulate);
      clear();
    }
  } segs;

  // Scheduling (autobatch_schedule.cc): fills plan.order / gsize / gsig / local_group for
  // [begin, end); index_groups() then the groups' offsets in order (goff).
  void sign_nodes(Graph& g, uint32_t begin, uint32_t end);
  void schedule_agenda();
  void schedule_depth();
  void schedule_none();
  void index_groups();
  void plan_layout();
  void plan_memory(Graph& g);

  // Forward (autobatch_forward.cc).
  void forward(Graph& g, uint32_t begin, uint32_t end);
  void run_group(Graph& g, uint32_t gi);
  bool run_batched(Graph& g, uint32_t gi);
  void run_solo(Graph& g, uint32_t id);
  void materialize(Graph& g, uint32_t id);
  void run_random(Graph& g, Node& y, Node& x, const uint32_t* members, uint32_t k, bool flat);
  const char* value_of(Graph& g, uint32_t id, int64_t* elems, size_t es);
  void* gather(Graph& g, const Node& A, const uint32_t* members, uint32_t k, uint32_t arg, uint32_t* ids,
               bool* contiguous);

  // Backward (autobatch_backward.cc).
  void backward(Graph& g, uint32_t root, const std::vector<uint8_t>& reach);
  void layout_grads(Graph& g, uint32_t root, const std::vector<uint8_t>& reach);
  void backward_group(Graph& g, uint32_t gi, uint32_t root, const std::vector<uint8_t>& reach);
};

}  // namespace flare
