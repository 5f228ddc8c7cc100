#include "flare/nn/rnn.h"

#include "flare/error.h"
#include "flare/ops.h"

namespace flare::nn {

SequenceResult run(const RecurrentCell& cell, const std::vector<Expr>& xs, const RNNState& init,
                   bool reverse) {
  if (xs.empty()) throw Error("run " + cell.path() + ": the sequence is empty");
  SequenceResult r;
  r.outputs.resize(xs.size());
  Graph& g = xs[0].graph();
  CellParams p = cell.bind(g);
  RNNState s = init;
  const size_t n = xs.size();
  // Eagerly (and in static plans), the input projections of all steps run first as one matrix
  // product over the sequence, read back per step: one GEMM instead of n matrix-vector
  // products forward and backward. An executor that batches across examples gets one
  // projection per step instead, which it merges with the other examples' steps. Narrow inputs
  // are left per step: there the product is cheap and the read-back node per step costs more
  // than it saves (the tagger's char LSTMs, input 20: 5% more instructions per update).
  constexpr int64_t kMinProjectedInput = 64;
  const Shape& x0 = xs[0].shape();
  bool whole = n > 1 && cell.has_projection() && x0.size() >= kMinProjectedInput && !g.batches_examples();
  for (size_t t = 1; whole && t < n; ++t) whole = xs[t].shape() == x0;
  const Expr projected = whole ? cell.project(p, concat_batch(xs)) : Expr();
  const int64_t B = x0.batch();
  for (size_t k = 0; k < n; ++k) {
    const size_t t = reverse ? n - 1 - k : k;
    s = projected.valid() ? cell.step_projected(p, slice_batch(projected, int64_t(t) * B, int64_t(t + 1) * B), s)
                          : cell.step(p, xs[t], s);
    r.outputs[t] = s.h;
  }
  r.final = s;
  return r;
}

std::vector<RNNState> run_packed(const RecurrentCell& cell, const std::vector<int64_t>& lengths,
                                 const std::function<Expr(int64_t t, int64_t batch)>& step_input) {
  const std::string who = "run_packed " + cell.path();
  if (lengths.empty()) throw Error(who + ": no sequences");
  for (size_t k = 0; k < lengths.size(); ++k) {
    if (lengths[k] < 1)
      throw Error(who + ": sequence " + std::to_string(k) + " has length " + std::to_string(lengths[k]));
    if (k > 0 && lengths[k] > lengths[k - 1])
      throw Error(who + ": lengths must be longest first; sequence " + std::to_string(k) + " (" +
                  std::to_string(lengths[k]) + ") follows one of " + std::to_string(lengths[k - 1]));
  }
  std::vector<RNNState> final(lengths.size());
  int64_t b = int64_t(lengths.size());
  CellParams p;
  RNNState s;
  for (int64_t t = 0; t < lengths[0]; ++t) {
    while (lengths[size_t(b - 1)] <= t) --b;  // those that ended are at the back
    if (t > 0 && b < s.h.shape().batch()) {
      s.h = slice_batch(s.h, 0, b);
      if (s.c.valid()) s.c = slice_batch(s.c, 0, b);
    }
    const Expr x = step_input(t, b);
    if (!x.valid() || x.shape().batch() != b)
      throw Error(who + ": step " + std::to_string(t) + " needs an input of batch " + std::to_string(b) +
                  (x.valid() ? ", got " + x.shape().str() : ", got an empty Expr"));
    if (t == 0) p = cell.bind(x.graph());
    s = cell.step(p, x, s);
    // The sequences that end here are the last ones of this step's batch.
    for (int64_t k = b; k-- > 0 && lengths[size_t(k)] == t + 1;)
      final[size_t(k)] = b == 1 ? s : RNNState{pick_batch(s.h, k), s.c.valid() ? pick_batch(s.c, k) : Expr()};
  }
  return final;
}

RNN::RNN(Model& m, int64_t input_dim, int64_t hidden_dim, const RNNOptions& o, const std::string& name)
    : Module(m, name), opt_(o), hidden_(hidden_dim) {
  if (o.layers < 1) throw Error("RNN " + path() + ": needs at least one layer; got " + std::to_string(o.layers));
  if (!(o.dropout >= 0 && o.dropout < 1))
    throw Error("RNN " + path() + ": dropout must be in [0, 1); got " + std::to_string(o.dropout));
  auto make = [&](int64_t in, const std::string& cell_name) -> std::unique_ptr<RecurrentCell> {
    if (o.cell == CellType::lstm) return std::make_unique<LSTMCell>(m, in, hidden_dim, o.lstm, cell_name);
    return std::make_unique<GRUCell>(m, in, hidden_dim, o.gru, cell_name);
  };
  for (int l = 0; l < o.layers; ++l) {
    const int64_t in = l == 0 ? input_dim : output_dim();
    const std::string layer = "l" + std::to_string(l);
    if (directions() == 1) {
      cells_.push_back(make(in, layer));
    } else {
      auto s = m.scope(layer);
      cells_.push_back(make(in, "fwd"));
      cells_.push_back(make(in, "bwd"));
    }
  }
  close_scope();
}

const RecurrentCell& RNN::cell(int layer, int direction) const {
  if (layer < 0 || layer >= layers() || direction < 0 || direction >= directions())
    throw IndexError("RNN " + path() + ": no cell for layer " + std::to_string(layer) + " direction " +
                     std::to_string(direction) + " (" + std::to_string(layers()) + " layers, " +
                     std::to_string(directions()) + " directions)");
  return *cells_[size_t(layer * directions() + direction)];
}

RNN::Result RNN::forward(const std::vector<Expr>& xs, const std::vector<RNNState>& init) const {
  if (xs.empty()) throw Error("RNN " + path() + ": the sequence is empty");
  if (!init.empty() && init.size() != cells_.size())
    throw Error("RNN " + path() + ": needs " + std::to_string(cells_.size()) +
                " initial states (layers x directions) or none; got " + std::to_string(init.size()));
  Result r;
  std::vector<Expr> in = xs;
  const bool bi = directions() == 2;
  for (int l = 0; l < layers(); ++l) {
    if (l > 0 && opt_.dropout > 0)
      for (Expr& x : in) x = dropout(x, opt_.dropout, training());
    const size_t k = size_t(l * directions());
    const RNNState s0 = init.empty() ? RNNState{} : init[k];
    SequenceResult f = run(*cells_[k], in, s0, opt_.direction == Direction::reverse);
    r.final.push_back(f.final);
    if (!bi) {
      in = std::move(f.outputs);
      continue;
    }
    const RNNState s1 = init.empty() ? RNNState{} : init[k + 1];
    SequenceResult b = run(*cells_[k + 1], in, s1, true);
    r.final.push_back(b.final);
    for (size_t t = 0; t < in.size(); ++t) in[t] = concat({f.outputs[t], b.outputs[t]}, 0);
  }
  r.outputs = std::move(in);
  return r;
}

}  // namespace flare::nn
