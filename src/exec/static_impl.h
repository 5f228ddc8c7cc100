#pragma once
// StaticGraph's state, shared by its files: recording and feeding (static_graph.cc), planning
// (static_plan.cc) and running (static_run.cc).
#include <deque>
#include <limits>
#include <string>
#include <unordered_map>
#include <vector>

#include "flare/static_graph.h"
#include "ops/registry.h"

namespace flare {

namespace exec {
/// The executor of a recording graph: nodes are only recorded; computing them is the plan's job.
class Recorder : public Executor {
 public:
  void forward(Graph&, uint32_t, uint32_t) override;
  void backward(Graph&, uint32_t, const std::vector<uint8_t>&) override;
};
}  // namespace exec

struct StaticGraph::Impl {
  explicit Impl(Device d);
  ~Impl();

  // ---- Recording ----
  Graph g;
  exec::Recorder recorder;
  struct Slot {
    std::string name;
    uint32_t node = 0;          // tensor placeholders: their Input node
    bool is_index = false;
    int32_t* ids = nullptr;     // index placeholders: the host array their ops read
    int64_t n = 0;
    int64_t bound = std::numeric_limits<int64_t>::max();  // ids must be < bound ...
    std::string bound_by;       // ... which this op and shape impose
  };
  std::deque<Slot> slots;  // a deque: IndexPlaceholder points at a slot's name
  std::unordered_map<std::string, size_t> by_name;
  std::unordered_map<uint32_t, size_t> by_node;
  uint32_t bounds_for = 0;  // graph size the index bounds were computed at

  Slot& slot(const std::string& name, const char* what);
  void refresh_bounds();
  void feed_ids(Slot& s, const int32_t* ids, int64_t n);

  // ---- The plan ----
  struct Step {
    Node* y;
    Node* const* args;
    int nargs;
    void (*fn)(const ops::Ctx&);
  };
  bool compiled = false;
  uint32_t planned_size = 0;          // graph size at compile()
  std::vector<Node> nodes;            // copies of the recorded nodes, pointing into `buffer`
  std::vector<Node*> argp;            // argument pointers, laid out as the graph's arg ids
  std::vector<Step> fwd, bwd;
  std::vector<uint32_t> fwd_ids;      // node id of each forward step
  std::vector<uint32_t> zero_begin;   // per backward step (+1): its range in zero_nodes
  std::vector<Node*> zero_nodes;      // gradients that become live at that step
  std::vector<std::pair<Node*, Parameter*>> params;
  // Per entry of params: 1 when an op other than lookup reads the whole value, which is then
  // settled at each run (Parameter::Deferred); a table only looked up settles its rows itself.
  std::vector<uint8_t> param_read_whole;
  std::vector<uint8_t> needed;        // per node: computed by a full forward (leaves too)
  std::vector<uint8_t> is_output;
  std::vector<uint8_t> partial;       // per node: computed by the last partial forward
  uint32_t loss = std::numeric_limits<uint32_t>::max();
  bool has_backward = false;
  Backend& be;
  void* buffer = nullptr;
  size_t buffer_size = 0;
  StaticPlanStats stats;

  // ---- Runs ----
  // Scratch memory (ops' c.g->alloc) and random numbers of runs come from this graph, which
  // holds no nodes: clear() at each forward resets its arenas and keeps its stream going.
  Graph scratch;
  const std::vector<uint8_t>* computed = nullptr;  // what the last forward computed
  bool loss_ready = false;     // the last forward computed the loss, backward has not run
  const char* fed_after = nullptr;  // a placeholder fed since that forward

  void release_plan();
  void run_forward(const std::vector<uint8_t>* mask, bool check);
  void run_backward(bool check, bool defer);  // defer: rank-1 weight terms as eager does
  void probe();
  void check_planned(const Expr& e, const char* what) const;
};

}  // namespace flare
