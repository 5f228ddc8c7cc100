#pragma once
/// Running recurrent cells over sequences: one direction (run()), or a stacked, optionally
/// bidirectional network (RNN). A sequence is one Expr per position, each [in]xB for a batch of
/// B equal-length sequences.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "flare/nn/rnn_cell.h"

namespace flare::nn {

struct SequenceResult {
  /// outputs[t] is h after reading position t, in input order for both directions.
  std::vector<Expr> outputs;
  /// The state after the last position read (position 0 when reversed).
  RNNState final;
};

/// Runs `cell` over xs from the first position to the last, or from the last to the first when
/// `reverse`, starting from `init` (zeros by default). Binds the cell's parameters once.
/// Throws flare::Error for an empty sequence.
SequenceResult run(const RecurrentCell& cell, const std::vector<Expr>& xs,
                   const RNNState& init = {}, bool reverse = false);

/// Sequences of different lengths as one batch that shrinks as they end (PyTorch's packed
/// sequences): `lengths` holds each sequence's length, longest first (non-increasing, each at
/// least 1), and step_input(t, b) returns step t's input [in]xb for the b sequences longer than
/// t, in that order (a reversed direction feeds each sequence from its last position). Step t
/// is one cell step of batch b, so the words of a sentence, say, cost one step per character
/// position instead of one per character. Returns each sequence's state after its own last
/// step, as batch-1 states in the order of `lengths`. Throws flare::Error for bad lengths or a
/// step input of the wrong batch.
std::vector<RNNState> run_packed(const RecurrentCell& cell, const std::vector<int64_t>& lengths,
                                 const std::function<Expr(int64_t t, int64_t batch)>& step_input);

enum class CellType { lstm, gru };
enum class Direction { forward, reverse, bidirectional };

struct RNNOptions {
  CellType cell = CellType::lstm;
  int layers = 1;
  Direction direction = Direction::forward;
  /// Dropout on the inputs of layers 1.. (training mode only), as PyTorch's nn.LSTM(dropout).
  double dropout = 0.0;
  LSTMOptions lstm;
  GRUOptions gru;
};

/// Stacked recurrent layers. Layer k > 0 reads layer k-1's outputs (concatenated [h_fwd; h_bwd]
/// per position when bidirectional: two separate cells, one per direction). Cells are named
/// path/l<k> (unidirectional) or path/l<k>/fwd and path/l<k>/bwd, so an LSTM's weights are e.g.
/// `rnn/l0/fwd/input->gates/W`.
class RNN : public Module {
 public:
  RNN(Model& m, int64_t input_dim, int64_t hidden_dim, const RNNOptions& o = {},
      const std::string& name = "rnn");

  struct Result {
    /// The last layer's output per position: [hidden]xB, or [2*hidden]xB when bidirectional.
    std::vector<Expr> outputs;
    /// Final states, layer-major and forward before backward (PyTorch's h_n order):
    /// index = layer * directions() + direction.
    std::vector<RNNState> final;
  };
  /// `init` is empty (zeros) or one state per cell in the order of Result::final.
  Result forward(const std::vector<Expr>& xs, const std::vector<RNNState>& init = {}) const;
  Result operator()(const std::vector<Expr>& xs, const std::vector<RNNState>& init = {}) const {
    return forward(xs, init);
  }

  int layers() const { return opt_.layers; }
  int directions() const { return opt_.direction == Direction::bidirectional ? 2 : 1; }
  int64_t hidden_dim() const { return hidden_; }
  int64_t output_dim() const { return hidden_ * directions(); }
  /// The cell of one layer and direction (0 forward, 1 backward; 0 for a reverse-only RNN).
  const RecurrentCell& cell(int layer, int direction = 0) const;

 private:
  RNNOptions opt_;
  int64_t hidden_;
  std::vector<std::unique_ptr<RecurrentCell>> cells_;  // layer-major, as Result::final
};

}  // namespace flare::nn
