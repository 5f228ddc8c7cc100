// Recurrent cells' fused element-wise steps: the cell state and output of an LSTM, and of any
// cell of that form with another gate layout or two previous states (the Tree-LSTM)
// (Backend::lstm). Each is one kernel forward and one backward where the composed form
// (sigmoid, tanh, four slices, products, a sum) is eleven nodes: on a GPU eleven launches,
// which bound a recurrent model's speed, and for the auto-batcher, whose cost is per node,
// eleven nodes to plan. (Eager on the CPU the two forms cost the same instructions.)
#include "ops/registry.h"
#include "flare/ops.h"

namespace flare::ops {
namespace {

// The layout travels in the node's integer attributes (so the auto-batcher's signatures
// include it): blocks, i, g, o, f0, f1.
Attrs layout_attrs(const LstmGates& L) {
  Attrs a;
  a.i[0] = L.blocks, a.i[1] = L.i, a.i[2] = L.g, a.i[3] = L.o, a.i[4] = L.f[0], a.i[5] = L.f[1];
  return a;
}
LstmGates layout_of(const Attrs& a) {
  LstmGates L;
  L.blocks = int32_t(a.i[0]), L.i = int32_t(a.i[1]), L.g = int32_t(a.i[2]), L.o = int32_t(a.i[3]);
  L.f[0] = int32_t(a.i[4]), L.f[1] = int32_t(a.i[5]);
  return L;
}

// gates [blocks x h] and up to two states [h] of the same batch -> [h].
Shape lstm_shape(const ShapeArgs& sa) {
  const LstmGates L = layout_of(sa.attrs);
  const Shape& a = sa.s(0);
  const bool state = sa.op == OpId::LstmState;
  const int states = sa.nargs - 1;
  auto block_ok = [&](int32_t k) { return k >= 0 && k < L.blocks; };
  if (L.blocks < 1 || !block_ok(L.i) || !block_ok(L.g) || !block_ok(L.o))
    sa.fail("gate layout out of range: " + std::to_string(L.blocks) + " blocks, i " + std::to_string(L.i) + ", g " +
            std::to_string(L.g) + ", o " + std::to_string(L.o));
  for (int k = 0; k < states && state; ++k)
    if (!block_ok(L.f[k])) sa.fail("previous state " + std::to_string(k) + " has no forget gate in the layout");
  if (a.nd() != 1 || a.dim(0) % L.blocks != 0 || a.dim(0) == 0)
    sa.fail("gates must be a vector of " + std::to_string(L.blocks) + " x hidden pre-activations");
  const int64_t h = a.dim(0) / L.blocks;
  for (int k = 1; k < sa.nargs; ++k) {
    const Shape& c = sa.s(k);
    if (c.nd() != 1 || c.dim(0) != h)
      sa.fail("the cell state must be a vector of hidden size " + std::to_string(h) + " (gates / " +
              std::to_string(L.blocks) + ")");
    if (c.batch() != a.batch()) sa.fail("the cell state's batch must be the gates' batch");
  }
  return Shape({h}, a.batch());
}

int64_t hidden(const Ctx& c) { return c.y.shape.dim(0); }
int64_t batch(const Ctx& c) { return c.y.shape.batch(); }
const void* state_arg(const Ctx& c, int k) { return c.nargs > k + 1 ? c.x(k + 1) : nullptr; }
void* state_grad(const Ctx& c, int k) { return c.nargs > k + 1 ? c.dx(k + 1) : nullptr; }

// c' = sigmoid(i) tanh(g) + sum_k sigmoid(f_k) c_k;  dgates += ..., dc_k += dc' sigmoid(f_k)
void state_fwd(const Ctx& c) {
  c.be.lstm(LstmPart::State, c.t(), c.out(), c.x(0), state_arg(c, 0), state_arg(c, 1), layout_of(c.y.attrs), batch(c),
            hidden(c));
}
void state_bwd(const Ctx& c) {
  if (!c.dx(0) && !state_grad(c, 0) && !state_grad(c, 1)) return;
  c.be.lstm_grad(LstmPart::State, c.t(), c.dx(0), state_grad(c, 0), state_grad(c, 1), c.x(0), state_arg(c, 0),
                 state_arg(c, 1), c.dy(), layout_of(c.y.attrs), batch(c), hidden(c));
}

// h = sigmoid(o) tanh(c');  do += dh tanh(c') sigmoid'(o), dc' += dh sigmoid(o) tanh'(c')
void output_fwd(const Ctx& c) {
  c.be.lstm(LstmPart::Output, c.t(), c.out(), c.x(0), c.x(1), nullptr, layout_of(c.y.attrs), batch(c), hidden(c));
}
void output_bwd(const Ctx& c) {
  if (!c.dx(0) && !c.dx(1)) return;
  c.be.lstm_grad(LstmPart::Output, c.t(), c.dx(0), c.dx(1), nullptr, c.x(0), c.x(1), nullptr, c.dy(),
                 layout_of(c.y.attrs), batch(c), hidden(c));
}

}  // namespace

void register_recurrent(OpDef* t) {
  t[int(OpId::LstmState)] = {"lstm_state", "gates,c0,c1", 1, 3, lstm_shape, state_fwd, state_bwd, BatchKind::PerExample};
  t[int(OpId::LstmOutput)] = {"lstm_output", "gates,c", 2, 2, lstm_shape, output_fwd, output_bwd, BatchKind::PerExample};
}

}  // namespace flare::ops

namespace flare {

Expr lstm_state(const Expr& gates, const std::vector<Expr>& states, const LstmGates& layout) {
  if (states.size() > 2) throw ShapeError("lstm_state: takes at most 2 previous states, got " + std::to_string(states.size()));
  Expr args[3] = {gates};
  for (size_t k = 0; k < states.size(); ++k) args[k + 1] = states[k];
  return gates.graph().add(OpId::LstmState, args, uint32_t(states.size() + 1), ops::layout_attrs(layout));
}
Expr lstm_state(const Expr& gates, const Expr& c) { return lstm_state(gates, {c}, LstmGates{}); }
Expr lstm_state(const Expr& gates) { return lstm_state(gates, {}, LstmGates{}); }
Expr lstm_output(const Expr& gates, const Expr& c, const LstmGates& layout) {
  return gates.graph().add(OpId::LstmOutput, {gates, c}, ops::layout_attrs(layout));
}
Expr lstm_output(const Expr& gates, const Expr& c) { return lstm_output(gates, c, LstmGates{}); }

}  // namespace flare
