#pragma once
/// Binary Tree-LSTM (Tai et al. 2015, the constituency / N-ary form with N = 2): words at the
/// leaves, and each inner node combines its two children with a forget gate per child.
///
///   leaf x:      i, o, u = split(W x + b_leaf);  c = sig(i)*tanh(u);  h = sig(o)*tanh(c)
///   node (l, r): i, f_l, f_r, o, u = split(U_l h_l + U_r h_r + b)
///                c = sig(i)*tanh(u) + sig(f_l)*c_l + sig(f_r)*c_r;  h = sig(o)*tanh(c)
///
/// Parameters: leaf/input->gates/W [3h, in], leaf/gates/b [3h], node/left->gates/W [5h, h],
/// node/right->gates/W [5h, h], node/gates/b [5h] (blocks in the order above).
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "flare/io/tree.h"
#include "flare/nn/rnn_cell.h"

namespace flare::nn {

struct TreeLSTMOptions {
  Init input_init = Init::glorot_uniform();
  Init hidden_init = Init::glorot_uniform();
  /// Initial bias of both forget gates; other biases start at 0.
  double forget_bias = 1.0;
};

class TreeLSTM : public Module {
 public:
  TreeLSTM(Model& m, int64_t input_dim, int64_t hidden_dim, const TreeLSTMOptions& o = {},
           const std::string& name = "treelstm");

  /// The parameters as leaves of g (bind once per tree; layout private).
  struct Params {
    Expr W_leaf, b_leaf, U_left, U_right, b;
  };
  Params bind(Graph& g) const;

  /// A leaf from its input x [in]xB.
  RNNState leaf(const Params& p, const Expr& x) const;
  /// Many leaves as one batch: xs [in]xL -> the L leaves' states, each read back from the batch
  /// with pick_batch (one matrix product and one of each gate op for all of them).
  std::vector<RNNState> leaves(const Params& p, const Expr& xs) const;
  /// True when leaves of one tree should run as one batch (leaves()) in graph g: when it runs
  /// eagerly or is recorded for a static plan. An executor that batches across examples merges
  /// single leaves of many trees instead.
  static bool batch_leaves(const Graph& g) { return !g.batches_examples(); }
  /// The states of `count` leaves, whichever way the graph wants them: where leaves run as one
  /// batch (batch_leaves), leaves(p, all()) with all() giving every input as one [in]x`count`;
  /// else leaf(p, one(k)) for each leaf k, so an executor can merge them across trees.
  std::vector<RNNState> leaf_states(const Params& p, size_t count, const std::function<Expr()>& all,
                                    const std::function<Expr(size_t k)>& one) const;
  /// An inner node from its children's states [hidden]xB. An invalid child state counts as
  /// zeros (a unary node passes its child as `left` and {} as `right`); not both.
  RNNState node(const Params& p, const RNNState& left, const RNNState& right) const;
  /// Many binary nodes as one batch (children's states lefts[k], rights[k], each [hidden]x1):
  /// one matrix product per child side and one of each gate op for all of them, read back with
  /// pick_batch. Nodes of one tree whose children are ready at the same time (a level) run this
  /// way eagerly; see encode().
  std::vector<RNNState> nodes(const Params& p, const std::vector<RNNState>& lefts,
                              const std::vector<RNNState>& rights) const;
  /// The same, binding the parameters on each call.
  RNNState leaf(const Expr& x) const { return leaf(bind(x.graph()), x); }
  RNNState node(const RNNState& left, const RNNState& right) const;

  /// The inner nodes of one tree, given by their children: node i is a leaf when left[i] < 0
  /// (states[i] already holds its state), else an inner node with children left[i] and right[i]
  /// (right[i] < 0 for a unary node), both earlier than i. Fills states[i] for every inner node.
  /// Where leaves run as one batch (batch_leaves(g)), nodes run level by level: a node's level is
  /// one more than its children's highest, and each level's binary nodes are one batch (nodes()).
  /// Under an executor that batches across examples they run one by one, to be merged there.
  void encode_inner(const Params& p, const std::vector<int32_t>& left, const std::vector<int32_t>& right,
                    std::vector<RNNState>& states) const;
  /// Encodes a tree bottom-up: `embed(leaf_node)` gives each leaf's input. Returns every node's
  /// state in tree.post_order() order (the root last). Unary nodes are nodes with one child.
  std::vector<RNNState> encode(Graph& g, const io::Tree& tree,
                               const std::function<Expr(const io::Tree& leaf)>& embed) const;

  int64_t input_dim() const { return in_; }
  int64_t hidden_dim() const { return hidden_; }

 private:
  int64_t in_, hidden_;
  Parameter *W_leaf_, *b_leaf_, *U_left_, *U_right_, *b_;
};

}  // namespace flare::nn
