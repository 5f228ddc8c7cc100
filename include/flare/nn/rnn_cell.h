#pragma once
/// Recurrent cells: LSTM and GRU with PyTorch's equations and gate order, each a few fused
/// nodes per step. All shapes may carry a batch: x [in]xB, h and c [hidden]xB.
#include <cstdint>
#include <string>

#include "flare/nn/module.h"

namespace flare::nn {

/// A recurrent state: h for every cell, c for LSTMs. An invalid (default) Expr stands for zeros
/// and costs nothing: the first step skips the hidden-state product, so `RNNState{}` is the
/// usual initial state.
struct RNNState {
  Expr h;
  Expr c;
};
using LSTMState = RNNState;
using GRUState = RNNState;

/// A cell's parameters as leaves of one graph (layout private to the cell). Binding once and
/// stepping many times adds the parameter leaves to the graph once per sequence, not per step.
struct CellParams {
  Expr e[4];
};

class RecurrentCell : public Module {
 public:
  int64_t input_dim() const { return in_; }
  int64_t hidden_dim() const { return hidden_; }
  /// True for cells with a memory cell c (LSTM).
  virtual bool has_cell_state() const = 0;

  virtual CellParams bind(Graph& g) const = 0;
  /// One step: x [in]xB and state [hidden]xB (or zeros) -> the next state.
  virtual RNNState step(const CellParams& p, const Expr& x, const RNNState& s) const = 0;
  /// True for cells that split a step into project() and step_projected() (LSTM, GRU).
  virtual bool has_projection() const { return false; }
  /// The part of a step that reads only the input, for many inputs at once: x [in]xN ->
  /// [gates]xN (one matrix product for N inputs). Throws for cells without a projection.
  virtual Expr project(const CellParams& p, const Expr& x) const;
  /// One step from a projected input px = project(p, x) for this step's x [in]xB. The same
  /// function as step(p, x, s), which is step_projected(p, project(p, x), s) up to rounding.
  virtual RNNState step_projected(const CellParams& p, const Expr& px, const RNNState& s) const;
  /// One step, binding the parameters (convenient for single steps).
  RNNState forward(const Expr& x, const RNNState& s = {}) const { return step(bind(x.graph()), x, s); }
  RNNState operator()(const Expr& x, const RNNState& s = {}) const { return forward(x, s); }

  /// Explicit zeros [hidden]x`batch` (for code that needs a state it can read).
  RNNState zero_state(Graph& g, int64_t batch = 1) const;

 protected:
  RecurrentCell(Model& m, const std::string& name, int64_t in, int64_t hidden);
  /// Throws ShapeError naming the cell when x is not [in]xB.
  void check_input(const Expr& x) const;

 private:
  int64_t in_, hidden_;
};

struct LSTMOptions {
  Init input_init = Init::glorot_uniform();
  Init hidden_init = Init::glorot_uniform();
  /// Initial bias of the forget gate (1 keeps memories early in training); other biases start at 0.
  double forget_bias = 1.0;
};

/// i, f, g, o = split(W x + U h + b); c' = sigmoid(f)*c + sigmoid(i)*tanh(g); h' = sigmoid(o)*tanh(c').
/// Parameters: input->gates/W [4h, in], hidden->gates/W [4h, h], gates/b [4h], gates in
/// PyTorch's order i, f, g, o (b is PyTorch's b_ih + b_hh). One affine node per step.
class LSTMCell : public RecurrentCell {
 public:
  LSTMCell(Model& m, int64_t in, int64_t hidden, const LSTMOptions& o = {},
           const std::string& name = "lstm");
  bool has_cell_state() const override { return true; }
  CellParams bind(Graph& g) const override;
  RNNState step(const CellParams& p, const Expr& x, const RNNState& s) const override;
  bool has_projection() const override { return true; }
  Expr project(const CellParams& p, const Expr& x) const override;  // W x + b
  RNNState step_projected(const CellParams& p, const Expr& px, const RNNState& s) const override;

  Parameter& W() const { return *W_; }
  Parameter& U() const { return *U_; }
  Parameter& b() const { return *b_; }

 private:
  RNNState gates_to_state(const Expr& a, const RNNState& s) const;
  Parameter *W_, *U_, *b_;
};

struct GRUOptions {
  Init input_init = Init::glorot_uniform();
  Init hidden_init = Init::glorot_uniform();
};

/// PyTorch's GRU: r, z, n gates;
///   r = sigmoid(W_r x + b_ir + U_r h + b_hr), z likewise,
///   n = tanh(W_n x + b_in + r * (U_n h + b_hn)),  h' = (1 - z) * n + z * h.
/// Parameters: input->gates/W [3h, in], hidden->gates/W [3h, h], input->gates/b [3h],
/// hidden->gates/b [3h], rows in the order r, z, n.
class GRUCell : public RecurrentCell {
 public:
  GRUCell(Model& m, int64_t in, int64_t hidden, const GRUOptions& o = {},
          const std::string& name = "gru");
  bool has_cell_state() const override { return false; }
  CellParams bind(Graph& g) const override;
  RNNState step(const CellParams& p, const Expr& x, const RNNState& s) const override;
  bool has_projection() const override { return true; }
  Expr project(const CellParams& p, const Expr& x) const override;  // W x + b_input
  RNNState step_projected(const CellParams& p, const Expr& px, const RNNState& s) const override;

  Parameter& W() const { return *W_; }
  Parameter& U() const { return *U_; }
  Parameter& b_input() const { return *bi_; }
  Parameter& b_hidden() const { return *bh_; }

 private:
  Parameter *W_, *U_, *bi_, *bh_;
};

}  // namespace flare::nn
