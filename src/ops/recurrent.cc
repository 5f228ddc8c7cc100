// Recurrent cells' fused element-wise steps: the LSTM cell state and output
// (Backend::lstm). Each is one kernel forward and one backward where the composed form
// (sigmoid, tanh, four slices, products, a sum) is eleven nodes: on a GPU eleven launches,
// which bound a recurrent model's speed. (On the CPU the two forms cost the same instructions.)
#include "ops/registry.h"
#include "flare/ops.h"

namespace flare::ops {
namespace {

// gates [4h] (a vector, 4h > 0) and, when present, a state [h] of the same batch -> [h].
Shape lstm_shape(const ShapeArgs& sa) {
  const Shape& a = sa.s(0);
  if (a.nd() != 1 || a.dim(0) % 4 != 0 || a.dim(0) == 0)
    sa.fail("gates must be a vector of 4 x hidden pre-activations [i f g o]");
  const int64_t h = a.dim(0) / 4;
  if (sa.nargs > 1) {
    const Shape& c = sa.s(1);
    if (c.nd() != 1 || c.dim(0) != h)
      sa.fail("the cell state must be a vector of hidden size " + std::to_string(h) + " (gates / 4)");
    if (c.batch() != a.batch()) sa.fail("the cell state's batch must be the gates' batch");
  }
  return Shape({h}, a.batch());
}

int64_t hidden(const Ctx& c) { return c.y.shape.dim(0); }
int64_t batch(const Ctx& c) { return c.y.shape.batch(); }

// c' = sigmoid(f) c + sigmoid(i) tanh(g);  d{i,f,g} += dc' * ..., dc += dc' sigmoid(f)
void state_fwd(const Ctx& c) {
  c.be.lstm(LstmPart::State, c.t(), c.out(), c.x(0), c.nargs > 1 ? c.x(1) : nullptr, batch(c), hidden(c));
}
void state_bwd(const Ctx& c) {
  void* dc = c.nargs > 1 ? c.dx(1) : nullptr;
  if (!c.dx(0) && !dc) return;
  c.be.lstm_grad(LstmPart::State, c.t(), c.dx(0), dc, c.x(0), c.nargs > 1 ? c.x(1) : nullptr, c.dy(), batch(c),
                 hidden(c));
}

// h = sigmoid(o) tanh(c');  do += dh tanh(c') sigmoid'(o), dc' += dh sigmoid(o) tanh'(c')
void output_fwd(const Ctx& c) {
  c.be.lstm(LstmPart::Output, c.t(), c.out(), c.x(0), c.x(1), batch(c), hidden(c));
}
void output_bwd(const Ctx& c) {
  if (!c.dx(0) && !c.dx(1)) return;
  c.be.lstm_grad(LstmPart::Output, c.t(), c.dx(0), c.dx(1), c.x(0), c.x(1), c.dy(), batch(c), hidden(c));
}

}  // namespace

void register_recurrent(OpDef* t) {
  t[int(OpId::LstmState)] = {"lstm_state", "gates,c", 1, 2, lstm_shape, state_fwd, state_bwd, BatchKind::PerExample};
  t[int(OpId::LstmOutput)] = {"lstm_output", "gates,c", 2, 2, lstm_shape, output_fwd, output_bwd, BatchKind::PerExample};
}

}  // namespace flare::ops

namespace flare {

Expr lstm_state(const Expr& gates, const Expr& c) { return gates.graph().add(OpId::LstmState, {gates, c}); }
Expr lstm_state(const Expr& gates) { return gates.graph().add(OpId::LstmState, {gates}); }
Expr lstm_output(const Expr& gates, const Expr& c) { return gates.graph().add(OpId::LstmOutput, {gates, c}); }

}  // namespace flare
