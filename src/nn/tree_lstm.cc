#include "flare/nn/tree_lstm.h"

#include <unordered_map>

#include "flare/error.h"
#include "flare/ops.h"

namespace flare::nn {

TreeLSTM::TreeLSTM(Model& m, int64_t input_dim, int64_t hidden_dim, const TreeLSTMOptions& o,
                   const std::string& name)
    : Module(m, name), in_(input_dim), hidden_(hidden_dim) {
  if (input_dim < 1 || hidden_dim < 1)
    throw Error("TreeLSTM " + path() + ": dims must be positive; got in=" + std::to_string(input_dim) +
                " hidden=" + std::to_string(hidden_dim));
  const int64_t h = hidden_dim;
  W_leaf_ = &add_parameter("leaf/input->gates/W", Shape({3 * h, input_dim}), o.input_init);
  b_leaf_ = &add_parameter("leaf/gates/b", Shape({3 * h}), Init::zeros());
  U_left_ = &add_parameter("node/left->gates/W", Shape({5 * h, h}), o.hidden_init);
  U_right_ = &add_parameter("node/right->gates/W", Shape({5 * h, h}), o.hidden_init);
  std::vector<double> b(size_t(5 * h), 0.0);
  for (int64_t k = h; k < 3 * h; ++k) b[size_t(k)] = o.forget_bias;
  b_ = &add_parameter("node/gates/b", Tensor::from(Shape({5 * h}), b, DType::f64));
  close_scope();
}

TreeLSTM::Params TreeLSTM::bind(Graph& g) const {
  return {g.param(*W_leaf_), g.param(*b_leaf_), g.param(*U_left_), g.param(*U_right_), g.param(*b_)};
}

RNNState TreeLSTM::leaf(const Params& p, const Expr& x) const {
  if (x.shape().nd() != 1 || x.shape().dim(0) != in_)
    throw ShapeError("TreeLSTM " + path() + ": leaf input must be [" + std::to_string(in_) + "]xB; got " +
                     x.shape().str());
  // Gates [i o u]: c = sigmoid(i) tanh(u), h = sigmoid(o) tanh(c), as two fused nodes.
  const LstmGates L{/*blocks*/ 3, /*i*/ 0, /*g*/ 2, /*o*/ 1, /*f*/ {-1, -1}};
  Expr a = affine({p.b_leaf, p.W_leaf, x});
  Expr c = lstm_state(a, {}, L);
  return {lstm_output(a, c, L), c};
}

std::vector<RNNState> TreeLSTM::leaves(const Params& p, const Expr& xs) const {
  const RNNState all = leaf(p, xs);
  const int64_t n = xs.shape().batch();
  if (n == 1) return {all};
  std::vector<RNNState> out;
  out.reserve(size_t(n));
  for (int64_t k = 0; k < n; ++k) out.push_back({pick_batch(all.h, k), pick_batch(all.c, k)});
  return out;
}

RNNState TreeLSTM::node(const Params& p, const RNNState& left, const RNNState& right) const {
  if (!left.h.valid() && !right.h.valid())
    throw Error("TreeLSTM " + path() + ": node() needs at least one child state");
  std::vector<Expr> args{p.b};
  if (left.h.valid()) args.insert(args.end(), {p.U_left, left.h});
  if (right.h.valid()) args.insert(args.end(), {p.U_right, right.h});
  Expr a = affine(args);
  // Gates [i f_left f_right o u]: c = sigmoid(i) tanh(u) + sigmoid(f_left) c_left +
  // sigmoid(f_right) c_right, h = sigmoid(o) tanh(c), as two fused nodes.
  LstmGates L{/*blocks*/ 5, /*i*/ 0, /*g*/ 4, /*o*/ 3, /*f: per state, below*/ {-1, -1}};
  std::vector<Expr> states;
  if (left.c.valid()) L.f[states.size()] = 1, states.push_back(left.c);
  if (right.c.valid()) L.f[states.size()] = 2, states.push_back(right.c);
  Expr c = lstm_state(a, states, L);
  return {lstm_output(a, c, L), c};
}

RNNState TreeLSTM::node(const RNNState& left, const RNNState& right) const {
  if (!left.h.valid() && !right.h.valid())
    throw Error("TreeLSTM " + path() + ": node() needs at least one child state");
  Graph& g = left.h.valid() ? left.h.graph() : right.h.graph();
  return node(bind(g), left, right);
}

std::vector<RNNState> TreeLSTM::encode(Graph& g, const io::Tree& tree,
                                       const std::function<Expr(const io::Tree& leaf)>& embed) const {
  Params p = bind(g);
  std::vector<const io::Tree*> order = tree.post_order();
  std::unordered_map<const io::Tree*, size_t> at;
  at.reserve(order.size());
  std::vector<RNNState> states;
  states.reserve(order.size());
  // Eagerly, the leaves first, as one batch (see leaves()).
  std::vector<RNNState> batched;
  if (batch_leaves(g)) {
    std::vector<Expr> xs;
    for (const io::Tree* t : order)
      if (t->is_leaf()) xs.push_back(embed(*t));
    batched = leaves(p, concat_batch(xs));
  }
  size_t next_leaf = 0;
  for (const io::Tree* t : order) {
    if (t->is_leaf()) {
      states.push_back(batched.empty() ? leaf(p, embed(*t)) : batched[next_leaf++]);
    } else {
      const RNNState& l = states[at.at(&t->children[0])];
      RNNState r = t->children.size() > 1 ? states[at.at(&t->children[1])] : RNNState{};
      states.push_back(node(p, l, r));
    }
    at.emplace(t, states.size() - 1);
  }
  return states;
}

}  // namespace flare::nn
