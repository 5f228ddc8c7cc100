#pragma once
// Scoring many positions at once: a sentence's or a tree's states stacked as the rows of one
// matrix go through a linear layer as one matrix product and into one summed loss, instead of
// a few nodes per position (the per-node overhead is what dominates these small models).
#include <cstdint>
#include <vector>

#include "flare/flare.h"
#include "flare/nn/linear.h"

namespace flare::examples {

/// n vectors [d] -> the matrix [n, d] whose row r is xs[r].
Expr stack_rows(const std::vector<Expr>& xs);

/// X [n, in] -> X W^T + 1 b^T [n, out] with the layer's parameters (the same values as applying
/// the layer to each row).
Expr linear_rows(const nn::Linear& layer, const Expr& X);

/// sum over rows r of -log softmax(scores[r, :])[labels[r]], for scores [n, C].
Expr summed_nll_rows(const Expr& scores, const std::vector<int32_t>& labels);

/// The argmax of each row of scores [n, C].
std::vector<int32_t> argmax_rows(const Expr& scores);

}  // namespace flare::examples
