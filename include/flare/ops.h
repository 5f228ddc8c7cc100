#pragma once
/// The ops, as functions of Expr. Each builds one node (or a few, for composites), checks
/// shapes at once and computes the value eagerly. Shapes are written [dims]xbatch.
///
/// Broadcasting: element-wise ops take operands of the same shape, or of batch 1 against batch
/// B, or a one-element operand against anything.
#include <cstdint>
#include <initializer_list>
#include <vector>

#include "flare/backend.h"
#include "flare/graph.h"

namespace flare {

// ---- Arithmetic (element-wise) ----
Expr operator+(const Expr& a, const Expr& b);
Expr operator-(const Expr& a, const Expr& b);
Expr operator-(const Expr& a);
/// Element-wise product (DyNet's cmult); use matmul() for matrix products.
Expr operator*(const Expr& a, const Expr& b);
Expr operator/(const Expr& a, const Expr& b);
Expr operator+(const Expr& a, double s);
Expr operator+(double s, const Expr& a);
Expr operator-(const Expr& a, double s);
Expr operator-(double s, const Expr& a);
Expr operator*(const Expr& a, double s);
Expr operator*(double s, const Expr& a);
Expr operator/(const Expr& a, double s);
Expr cmult(const Expr& a, const Expr& b);
Expr cdiv(const Expr& a, const Expr& b);
/// Element-wise maximum and minimum (gradient to a on ties).
Expr max(const Expr& a, const Expr& b);
Expr min(const Expr& a, const Expr& b);

// ---- Nonlinearities (element-wise) ----
Expr tanh(const Expr& x);
Expr sigmoid(const Expr& x);
Expr relu(const Expr& x);
Expr elu(const Expr& x, double alpha = 1.0);
Expr softplus(const Expr& x);
Expr exp(const Expr& x);
Expr log(const Expr& x);
Expr sqrt(const Expr& x);
Expr square(const Expr& x);
Expr abs(const Expr& x);
/// log(sigmoid(x)), computed stably (a composite).
Expr log_sigmoid(const Expr& x);

// ---- Linear algebra ----
/// [m,k] x [k,n] -> [m,n]; a vector [k] on the right is a column ([m,k] x [k] -> [m]).
/// Batch: either side may be batch 1 (shared) against batch B.
Expr matmul(const Expr& a, const Expr& b);
/// b + W1*x1 + W2*x2 + ... (DyNet's affine_transform): args = {b, W1, x1, W2, x2, ...}.
Expr affine(const std::vector<Expr>& args);
/// The same without building a vector (no heap allocation): affine({b, W, x}).
Expr affine(std::initializer_list<Expr> args);
/// Matrix transpose per example; a vector [n] becomes a row [1,n].
Expr transpose(const Expr& x);
/// Inner product of two same-shaped operands -> one value per example.
Expr dot(const Expr& a, const Expr& b);
/// sum((a - b)^2) -> one value per example.
Expr squared_distance(const Expr& a, const Expr& b);

// ---- Shape and data movement ----
/// Same elements per example, another shape (the batch is kept).
Expr reshape(const Expr& x, const Shape& dims);
/// Concatenation along dim (negative counts from the end); batches must agree (or be 1).
Expr concat(const std::vector<Expr>& xs, int dim = 0);
Expr concat(std::initializer_list<Expr> xs, int dim = 0);
/// Concatenation along the batch (DyNet's concatenate_to_batch): operands of one shape with
/// batches B_i -> that shape with batch sum(B_i), operand after operand. Turns per-step
/// states into one batch, so a layer applied to every step runs as one matrix product.
Expr concat_batch(const std::vector<Expr>& xs);
/// Batch items [begin, end) of x (the inverse of concat_batch): a layer applied to a whole
/// sequence at once as one batch, then read back step by step. The whole batch is x itself.
Expr slice_batch(const Expr& x, int64_t begin, int64_t end);
/// Batch item `item` of x, as a batch of 1 (DyNet's pick_batch_elem).
Expr pick_batch(const Expr& x, int64_t item);
/// Elements [begin, end) along dim.
Expr slice(const Expr& x, int dim, int64_t begin, int64_t end);
/// Consecutive slices of the given sizes along dim (they must add up to the dim).
std::vector<Expr> split(const Expr& x, int dim, const std::vector<int64_t>& sizes);
/// Index `idx` along dim, removing that dim: an element of a vector, a row of a matrix.
Expr pick(const Expr& x, int32_t idx, int dim = 0);
/// One index per example: x of batch 1 or B, idx.size() == B (or x's batch).
Expr pick(const Expr& x, const std::vector<int32_t>& idx, int dim = 0);
/// Rows of an embedding table [V, d] -> [d] (one id) or [d]xB (B ids, one per example).
/// Sparse parameters record the rows used so that updates touch only them.
Expr lookup(const Expr& table, int32_t id);
Expr lookup(const Expr& table, const std::vector<int32_t>& ids);
Expr lookup(Graph& g, Parameter& table, int32_t id);
Expr lookup(Graph& g, Parameter& table, const std::vector<int32_t>& ids);

// ---- Reductions ----
/// Sum of all elements of each example -> [] per example.
Expr sum(const Expr& x);
/// Sum along dim (removed).
Expr sum(const Expr& x, int dim);
/// Sum over the batch -> batch 1.
Expr sum_batch(const Expr& x);
/// Sum of several same-shaped operands (a composite).
Expr sum(const std::vector<Expr>& xs);
Expr mean(const Expr& x);
Expr mean(const Expr& x, int dim);
Expr mean_batch(const Expr& x);
/// Maximum / minimum along dim (removed).
Expr max(const Expr& x, int dim);
Expr min(const Expr& x, int dim);
/// log(sum(exp(x))) along dim (removed), stable for large inputs.
Expr logsumexp(const Expr& x, int dim = -1);

// ---- Softmax and losses ----
Expr softmax(const Expr& x, int dim = -1);
Expr log_softmax(const Expr& x, int dim = -1);
/// -log(softmax(x)[label]) for scores x [C] (per example); labels: one, or one per example.
Expr pick_neg_log_softmax(const Expr& x, int32_t label);
Expr pick_neg_log_softmax(const Expr& x, const std::vector<int32_t>& labels);
/// -sum(t*log(p) + (1-t)*log(1-p)) for probabilities p and targets t of the same shape.
Expr binary_log_loss(const Expr& p, const Expr& target);
/// -sum(q * log_softmax(x)) over the last dim: scores x against a target distribution q.
Expr cross_entropy(const Expr& x, const Expr& q);

// ---- Recurrent cells ----
/// The LSTM cell's element-wise step, fused (DyNet's vanilla_lstm_c / vanilla_lstm_h). `gates`
/// is [4h] per example, the pre-activations W x + U h + b in blocks [i f g o]; states are [h].
/// lstm_state: the next cell state c' = sigmoid(f) * c + sigmoid(i) * tanh(g) (without c: a
/// zero previous state). lstm_output: the hidden output h = sigmoid(o) * tanh(c'). The batch
/// of c must be that of gates. Same values and gradients as the composed element-wise form,
/// in one kernel each way instead of eleven nodes.
Expr lstm_state(const Expr& gates, const Expr& c);
Expr lstm_state(const Expr& gates);
Expr lstm_output(const Expr& gates, const Expr& c);
/// The same for another gate layout (flare/backend.h's LstmGates: the blocks per example and
/// where i, g, o and each state's forget gate lie) and up to two previous states, state k
/// with forget gate layout.f[k]: c' = sigmoid(i) tanh(g) + sum_k sigmoid(f_k) c_k. A binary
/// Tree-LSTM node is {5 blocks [i f_left f_right o u]: i 0, g 4, o 3, f {1, 2}}.
Expr lstm_state(const Expr& gates, const std::vector<Expr>& states, const LstmGates& layout);
Expr lstm_output(const Expr& gates, const Expr& c, const LstmGates& layout);

// ---- Randomness ----
/// Inverted dropout: zero each element with probability p and scale the rest by 1/(1-p).
/// With training == false (or p == 0) it returns x itself.
Expr dropout(const Expr& x, double p, bool training = true);
/// x + N(0, stddev^2) noise.
Expr gaussian_noise(const Expr& x, double stddev);

}  // namespace flare
