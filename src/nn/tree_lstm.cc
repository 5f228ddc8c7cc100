#include "flare/nn/tree_lstm.h"

#include <algorithm>
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

std::vector<RNNState> TreeLSTM::leaf_states(const Params& p, size_t count, const std::function<Expr()>& all,
                                            const std::function<Expr(size_t k)>& one) const {
  if (count == 0) return {};
  if (batch_leaves(p.b.graph())) return leaves(p, all());
  std::vector<RNNState> out;
  out.reserve(count);
  for (size_t k = 0; k < count; ++k) out.push_back(leaf(p, one(k)));
  return out;
}

std::vector<RNNState> TreeLSTM::nodes(const Params& p, const std::vector<RNNState>& lefts,
                                      const std::vector<RNNState>& rights) const {
  if (lefts.size() != rights.size())
    throw Error("TreeLSTM " + path() + ": nodes() got " + std::to_string(lefts.size()) + " left and " +
                std::to_string(rights.size()) + " right children");
  if (lefts.empty()) return {};
  if (lefts.size() == 1) return {node(p, lefts[0], rights[0])};
  std::vector<Expr> hl, cl, hr, cr;
  for (size_t k = 0; k < lefts.size(); ++k) {
    if (!lefts[k].h.valid() || !rights[k].h.valid())
      throw Error("TreeLSTM " + path() + ": nodes() takes binary nodes; node " + std::to_string(k) +
                  " is missing a child (run it with node())");
    hl.push_back(lefts[k].h), cl.push_back(lefts[k].c);
    hr.push_back(rights[k].h), cr.push_back(rights[k].c);
  }
  const RNNState all = node(p, {concat_batch(hl), concat_batch(cl)}, {concat_batch(hr), concat_batch(cr)});
  std::vector<RNNState> out;
  out.reserve(lefts.size());
  for (size_t k = 0; k < lefts.size(); ++k)
    out.push_back({pick_batch(all.h, int64_t(k)), pick_batch(all.c, int64_t(k))});
  return out;
}

RNNState TreeLSTM::node(const RNNState& left, const RNNState& right) const {
  if (!left.h.valid() && !right.h.valid())
    throw Error("TreeLSTM " + path() + ": node() needs at least one child state");
  Graph& g = left.h.valid() ? left.h.graph() : right.h.graph();
  return node(bind(g), left, right);
}

void TreeLSTM::encode_inner(const Params& p, const std::vector<int32_t>& left, const std::vector<int32_t>& right,
                            std::vector<RNNState>& states) const {
  const size_t n = left.size();
  if (right.size() != n || states.size() != n)
    throw Error("TreeLSTM " + path() + ": encode_inner got " + std::to_string(n) + " left, " +
                std::to_string(right.size()) + " right children and " + std::to_string(states.size()) + " states");
  for (size_t i = 0; i < n; ++i)
    if (left[i] >= 0 && (size_t(left[i]) >= i || right[i] >= int32_t(i)))
      throw Error("TreeLSTM " + path() + ": node " + std::to_string(i) + "'s children must come before it");
  auto child = [&](int32_t k) { return k >= 0 ? states[size_t(k)] : RNNState{}; };
  if (!batch_leaves(p.b.graph())) {
    for (size_t i = 0; i < n; ++i)
      if (left[i] >= 0) states[i] = node(p, states[size_t(left[i])], child(right[i]));
    return;
  }
  std::vector<int32_t> level(n, 0);
  int32_t top = 0;
  for (size_t i = 0; i < n; ++i) {
    if (left[i] < 0) continue;
    level[i] = 1 + std::max(level[size_t(left[i])], right[i] >= 0 ? level[size_t(right[i])] : 0);
    top = std::max(top, level[i]);
  }
  std::vector<size_t> binary;
  std::vector<RNNState> lefts, rights;
  for (int32_t l = 1; l <= top; ++l) {
    binary.clear(), lefts.clear(), rights.clear();
    for (size_t i = 0; i < n; ++i) {
      if (level[i] != l || left[i] < 0) continue;
      if (right[i] < 0) {
        states[i] = node(p, states[size_t(left[i])], RNNState{});
        continue;
      }
      binary.push_back(i);
      lefts.push_back(states[size_t(left[i])]);
      rights.push_back(states[size_t(right[i])]);
    }
    if (binary.empty()) continue;
    const std::vector<RNNState> done = nodes(p, lefts, rights);
    for (size_t k = 0; k < binary.size(); ++k) states[binary[k]] = done[k];
  }
}

std::vector<RNNState> TreeLSTM::encode(Graph& g, const io::Tree& tree,
                                       const std::function<Expr(const io::Tree& leaf)>& embed) const {
  Params p = bind(g);
  const std::vector<const io::Tree*> order = tree.post_order();
  std::unordered_map<const io::Tree*, int32_t> at;
  at.reserve(order.size());
  std::vector<int32_t> left(order.size(), -1), right(order.size(), -1);
  std::vector<Expr> xs;
  for (size_t i = 0; i < order.size(); ++i) {
    const io::Tree* t = order[i];
    at.emplace(t, int32_t(i));
    if (t->is_leaf()) {
      xs.push_back(embed(*t));
      continue;
    }
    left[i] = at.at(&t->children[0]);
    if (t->children.size() > 1) right[i] = at.at(&t->children[1]);
  }
  const std::vector<RNNState> at_leaves =
      leaf_states(p, xs.size(), [&] { return concat_batch(xs); }, [&](size_t k) { return xs[k]; });
  std::vector<RNNState> states(order.size());
  for (size_t i = 0, k = 0; i < order.size(); ++i)
    if (left[i] < 0) states[i] = at_leaves[k++];
  encode_inner(p, left, right, states);
  return states;
}

}  // namespace flare::nn
