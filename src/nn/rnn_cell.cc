// LSTM and GRU cells. Node counts matter here (these run once per token per example), so each
// step is one affine for all gates, one sigmoid over the gate block and slices of it.
#include "flare/nn/rnn_cell.h"

#include <vector>

#include "flare/error.h"
#include "flare/ops.h"

namespace flare::nn {
namespace {

// A bias [n*h] with `value` in the block [block*h, (block+1)*h), zeros elsewhere.
Tensor block_bias(int64_t n, int64_t h, const std::vector<int>& blocks, double value) {
  std::vector<double> v(size_t(n * h), 0.0);
  for (int blk : blocks)
    for (int64_t k = 0; k < h; ++k) v[size_t(blk * h + k)] = value;
  return Tensor::from(Shape({n * h}), v, DType::f64);
}

}  // namespace

RecurrentCell::RecurrentCell(Model& m, const std::string& name, int64_t in, int64_t hidden)
    : Module(m, name), in_(in), hidden_(hidden) {
  if (in < 1 || hidden < 1)
    throw Error("recurrent cell " + path() + ": dims must be positive; got in=" + std::to_string(in) +
                " hidden=" + std::to_string(hidden));
}

void RecurrentCell::check_input(const Expr& x) const {
  const Shape& s = x.shape();
  if (s.nd() != 1 || s.dim(0) != in_)
    throw ShapeError("recurrent cell " + path() + ": input must be [" + std::to_string(in_) +
                     "]xB; got " + s.str());
}

Expr RecurrentCell::project(const CellParams&, const Expr&) const {
  throw Error("recurrent cell " + path() + ": has no input projection (has_projection() is false)");
}

RNNState RecurrentCell::step_projected(const CellParams&, const Expr&, const RNNState&) const {
  throw Error("recurrent cell " + path() + ": has no projected step (has_projection() is false)");
}

RNNState RecurrentCell::zero_state(Graph& g, int64_t batch) const {
  const DType t = model().dtype();
  RNNState s;
  s.h = g.constant(Shape({hidden_}, batch), 0.0, t);
  if (has_cell_state()) s.c = g.constant(Shape({hidden_}, batch), 0.0, t);
  return s;
}

// ---- LSTM ----

LSTMCell::LSTMCell(Model& m, int64_t in, int64_t hidden, const LSTMOptions& o, const std::string& name)
    : RecurrentCell(m, name, in, hidden) {
  W_ = &add_parameter("input->gates/W", Shape({4 * hidden, in}), o.input_init);
  U_ = &add_parameter("hidden->gates/W", Shape({4 * hidden, hidden}), o.hidden_init);
  b_ = &add_parameter("gates/b", block_bias(4, hidden, {1}, o.forget_bias));
  close_scope();
}

CellParams LSTMCell::bind(Graph& g) const {
  CellParams p;
  p.e[0] = g.param(*W_), p.e[1] = g.param(*U_), p.e[2] = g.param(*b_);
  return p;
}

RNNState LSTMCell::step(const CellParams& p, const Expr& x, const RNNState& s) const {
  check_input(x);
  return gates_to_state(s.h.valid() ? affine({p.e[2], p.e[0], x, p.e[1], s.h}) : affine({p.e[2], p.e[0], x}), s);
}

Expr LSTMCell::project(const CellParams& p, const Expr& x) const {
  check_input(x);
  return affine({p.e[2], p.e[0], x});
}

RNNState LSTMCell::step_projected(const CellParams& p, const Expr& px, const RNNState& s) const {
  return gates_to_state(s.h.valid() ? affine({px, p.e[1], s.h}) : px, s);
}

// a = W x + U h + b, the four gate blocks' pre-activations -> the next state: the fused
// lstm_state / lstm_output ops, two nodes per step. They take a state of the gates' batch, so
// a state shared by a batch of inputs (batch 1 against B) is repeated across the batch first;
// its gradient is then the sum over the copies.
RNNState LSTMCell::gates_to_state(const Expr& a, const RNNState& s) const {
  Expr c;
  if (!s.c.valid()) {
    c = lstm_state(a);
  } else {
    const int64_t B = a.shape().batch();
    c = lstm_state(a, s.c.shape().batch() == 1 && B > 1 ? concat_batch(std::vector<Expr>(size_t(B), s.c)) : s.c);
  }
  return {lstm_output(a, c), c};
}

// ---- GRU ----

GRUCell::GRUCell(Model& m, int64_t in, int64_t hidden, const GRUOptions& o, const std::string& name)
    : RecurrentCell(m, name, in, hidden) {
  W_ = &add_parameter("input->gates/W", Shape({3 * hidden, in}), o.input_init);
  U_ = &add_parameter("hidden->gates/W", Shape({3 * hidden, hidden}), o.hidden_init);
  bi_ = &add_parameter("input->gates/b", Shape({3 * hidden}), Init::zeros());
  bh_ = &add_parameter("hidden->gates/b", Shape({3 * hidden}), Init::zeros());
  close_scope();
}

CellParams GRUCell::bind(Graph& g) const {
  CellParams p;
  p.e[0] = g.param(*W_), p.e[1] = g.param(*U_), p.e[2] = g.param(*bi_), p.e[3] = g.param(*bh_);
  return p;
}

RNNState GRUCell::step(const CellParams& p, const Expr& x, const RNNState& s) const {
  return step_projected(p, project(p, x), s);
}

Expr GRUCell::project(const CellParams& p, const Expr& x) const {
  check_input(x);
  return affine({p.e[2], p.e[0], x});
}

RNNState GRUCell::step_projected(const CellParams& p, const Expr& gx, const RNNState& s) const {
  const int64_t h = hidden_dim();
  // With a zero state U h vanishes and only the hidden bias remains.
  Expr gh = s.h.valid() ? affine({p.e[3], p.e[1], s.h}) : p.e[3];
  Expr rz = sigmoid(gx + gh);  // n's block goes unused: one node instead of three
  Expr r = slice(rz, 0, 0, h), z = slice(rz, 0, h, 2 * h);
  Expr n = tanh(slice(gx, 0, 2 * h, 3 * h) + r * slice(gh, 0, 2 * h, 3 * h));
  Expr next = s.h.valid() ? n + z * (s.h - n) : n - z * n;
  return {next, Expr()};
}

}  // namespace flare::nn
