// Samples for the op sweep: at least one good input per op (a completeness test checks), the
// broadcasting and batching variants that have their own code paths, and bad inputs with the
// message each must produce. Adding an op adds lines here.
#include "flare/conv.h"
#include "support/gradcheck.h"

namespace flare::testing {
namespace {

using E = std::vector<Expr>;
using Dims = std::initializer_list<int64_t>;
ArgSpec A(Dims d, int64_t batch = 1) { return {Shape(d, batch), -1.0, 1.0}; }
ArgSpec Pos(Dims d, int64_t batch = 1) { return {Shape(d, batch), 0.5, 2.0}; }
ArgSpec Prob(Dims d, int64_t batch = 1) { return {Shape(d, batch), 0.1, 0.9}; }

// A binary Tree-LSTM node's gate layout [i f_left f_right o u], and a leaf's [i o u].
LstmGates tree_node_gates() { return {/*blocks*/ 5, /*i*/ 0, /*g*/ 4, /*o*/ 3, /*f*/ {1, 2}}; }
LstmGates tree_leaf_gates() { return {/*blocks*/ 3, /*i*/ 0, /*g*/ 2, /*o*/ 1, /*f*/ {-1, -1}}; }

OpSample S(std::string name, OpId op, std::vector<ArgSpec> args, Build b) {
  return {std::move(name), op, std::move(args), std::move(b)};
}

std::vector<OpSample> make_samples() {
  std::vector<OpSample> v;
  auto add = [&](OpSample s) { v.push_back(std::move(s)); };
  // Arithmetic, with each broadcasting pattern.
  add(S("add", OpId::Add, {A({3, 2}), A({3, 2})}, [](const E& x) { return x[0] + x[1]; }));
  add(S("add batch-broadcast", OpId::Add, {A({3}, 4), A({3})}, [](const E& x) { return x[0] + x[1]; }));
  add(S("add shared-left", OpId::Add, {A({3}), A({3}, 4)}, [](const E& x) { return x[0] + x[1]; }));
  add(S("add one-element", OpId::Add, {A({3, 2}, 2), A({})}, [](const E& x) { return x[0] + x[1]; }));
  add(S("subtract", OpId::Sub, {A({4}, 2), A({4}, 2)}, [](const E& x) { return x[0] - x[1]; }));
  add(S("subtract one-element left", OpId::Sub, {A({}), A({4})}, [](const E& x) { return x[0] - x[1]; }));
  add(S("negate", OpId::Neg, {A({2, 2})}, [](const E& x) { return -x[0]; }));
  add(S("multiply", OpId::Mul, {A({2, 3}), A({2, 3})}, [](const E& x) { return x[0] * x[1]; }));
  add(S("multiply batch-broadcast", OpId::Mul, {A({3}, 3), A({3})}, [](const E& x) { return x[0] * x[1]; }));
  add(S("divide", OpId::Div, {A({4}), Pos({4})}, [](const E& x) { return x[0] / x[1]; }));
  add(S("divide one-element", OpId::Div, {A({4}, 2), Pos({})}, [](const E& x) { return x[0] / x[1]; }));
  add(S("add_scalar", OpId::AddScalar, {A({3})}, [](const E& x) { return x[0] + 1.5; }));
  add(S("scalar minus", OpId::AddScalar, {A({3})}, [](const E& x) { return 2.0 - x[0]; }));
  add(S("multiply_scalar", OpId::MulScalar, {A({3}, 2)}, [](const E& x) { return x[0] * -2.5; }));
  add(S("max", OpId::Max, {A({5}), A({5}, 2)}, [](const E& x) { return max(x[0], x[1]); }));
  add(S("min", OpId::Min, {A({2, 3}), A({2, 3})}, [](const E& x) { return min(x[0], x[1]); }));
  // Nonlinearities.
  add(S("tanh", OpId::Tanh, {A({2, 3}, 2)}, [](const E& x) { return tanh(x[0]); }));
  add(S("tanh long (vector path)", OpId::Tanh, {{Shape{19}, -3, 3}}, [](const E& x) { return tanh(x[0]); }));
  add(S("sigmoid", OpId::Sigmoid, {{Shape{19}, -4, 4}}, [](const E& x) { return sigmoid(x[0]); }));
  add(S("relu", OpId::Relu, {A({6})}, [](const E& x) { return relu(x[0]); }));
  add(S("elu", OpId::Elu, {A({6})}, [](const E& x) { return elu(x[0], 0.7); }));
  add(S("softplus", OpId::Softplus, {{Shape{6}, -5, 5}}, [](const E& x) { return softplus(x[0]); }));
  add(S("exp", OpId::Exp, {A({17})}, [](const E& x) { return exp(x[0]); }));
  add(S("log", OpId::Log, {Pos({17})}, [](const E& x) { return log(x[0]); }));
  add(S("sqrt", OpId::Sqrt, {Pos({5})}, [](const E& x) { return sqrt(x[0]); }));
  add(S("square", OpId::Square, {A({5})}, [](const E& x) { return square(x[0]); }));
  add(S("abs", OpId::Abs, {A({5})}, [](const E& x) { return abs(x[0]); }));
  // Linear algebra: every batching pattern of the product.
  add(S("matmul matrix-vector", OpId::Matmul, {A({3, 4}), A({4})}, [](const E& x) { return matmul(x[0], x[1]); }));
  add(S("matmul matrix-matrix", OpId::Matmul, {A({3, 4}), A({4, 2})}, [](const E& x) { return matmul(x[0], x[1]); }));
  add(S("matmul shared weight, batched vectors", OpId::Matmul, {A({3, 4}), A({4}, 5)}, [](const E& x) { return matmul(x[0], x[1]); }));
  add(S("matmul shared weight, batched matrices", OpId::Matmul, {A({3, 4}), A({4, 2}, 2)}, [](const E& x) { return matmul(x[0], x[1]); }));
  add(S("matmul batched both", OpId::Matmul, {A({3, 4}, 3), A({4}, 3)}, [](const E& x) { return matmul(x[0], x[1]); }));
  add(S("matmul batched matrix, shared vector", OpId::Matmul, {A({3, 4}, 2), A({4})}, [](const E& x) { return matmul(x[0], x[1]); }));
  add(S("matmul row vector", OpId::Matmul, {A({4}), A({4, 3})}, [](const E& x) { return matmul(x[0], x[1]); }));
  add(S("affine", OpId::Affine, {A({3}), A({3, 4}), A({4})}, [](const E& x) { return affine({x[0], x[1], x[2]}); }));
  add(S("affine two pairs batched", OpId::Affine, {A({3}), A({3, 4}), A({4}, 2), A({3, 2}), A({2}, 2)},
        [](const E& x) { return affine({x[0], x[1], x[2], x[3], x[4]}); }));
  add(S("affine one pair shared, one batched", OpId::Affine, {A({3}), A({3, 4}), A({4}, 2), A({3, 2}), A({2})},
        [](const E& x) { return affine({x[0], x[1], x[2], x[3], x[4]}); }));
  add(S("affine matrix", OpId::Affine, {A({3, 2}), A({3, 4}), A({4, 2})}, [](const E& x) { return affine({x[0], x[1], x[2]}); }));
  add(S("transpose", OpId::Transpose, {A({3, 4})}, [](const E& x) { return transpose(x[0]); }));
  add(S("transpose vector batched", OpId::Transpose, {A({3}, 2)}, [](const E& x) { return transpose(x[0]); }));
  add(S("dot", OpId::Dot, {A({4}), A({4})}, [](const E& x) { return dot(x[0], x[1]); }));
  add(S("dot batch-broadcast", OpId::Dot, {A({2, 2}, 3), A({2, 2})}, [](const E& x) { return dot(x[0], x[1]); }));
  add(S("squared_distance", OpId::SquaredDistance, {A({4}, 2), A({4}, 2)}, [](const E& x) { return squared_distance(x[0], x[1]); }));
  add(S("squared_distance shared", OpId::SquaredDistance, {A({4}), A({4}, 3)}, [](const E& x) { return squared_distance(x[0], x[1]); }));
  // Shape and data movement.
  add(S("reshape", OpId::Reshape, {A({2, 3})}, [](const E& x) { return reshape(x[0], Shape{3, 2}); }));
  add(S("reshape batched", OpId::Reshape, {A({6}, 2)}, [](const E& x) { return reshape(x[0], Shape{2, 3}); }));
  add(S("concat vectors", OpId::Concat, {A({2}), A({3})}, [](const E& x) { return concat({x[0], x[1]}); }));
  add(S("concat dim 1", OpId::Concat, {A({2, 3}), A({2, 1})}, [](const E& x) { return concat({x[0], x[1]}, 1); }));
  add(S("concat_batch", OpId::ConcatBatch, {A({3}, 2), A({3}), A({3}, 3)},
        [](const E& x) { return concat_batch({x[0], x[1], x[2]}); }));
  add(S("concat_batch matrices", OpId::ConcatBatch, {A({2, 2}), A({2, 2}, 2)},
        [](const E& x) { return concat_batch({x[0], x[1]}); }));
  add(S("slice_batch", OpId::SliceBatch, {A({3}, 4)}, [](const E& x) { return slice_batch(x[0], 1, 3); }));
  add(S("pick_batch matrices", OpId::SliceBatch, {A({2, 3}, 3)}, [](const E& x) { return pick_batch(x[0], 2) * pick_batch(x[0], 0); }));
  add(S("concat batch-broadcast", OpId::Concat, {A({2}, 3), A({2}), A({1}, 3)}, [](const E& x) { return concat({x[0], x[1], x[2]}); }));
  add(S("slice dim 0", OpId::Slice, {A({4, 3})}, [](const E& x) { return slice(x[0], 0, 1, 3); }));
  add(S("slice dim 1 batched", OpId::Slice, {A({4, 3}, 2)}, [](const E& x) { return slice(x[0], -1, 0, 2); }));
  add(S("split", OpId::Slice, {A({5})}, [](const E& x) { auto p = split(x[0], 0, {2, 3}); return p[0] * slice(p[1], 0, 0, 2); }));
  add(S("pick element", OpId::Pick, {A({5})}, [](const E& x) { return pick(x[0], 2); }));
  add(S("pick row", OpId::Pick, {A({3, 4})}, [](const E& x) { return pick(x[0], 1); }));
  add(S("pick column", OpId::Pick, {A({3, 4})}, [](const E& x) { return pick(x[0], 2, 1); }));
  add(S("pick per example", OpId::Pick, {A({4}, 3)}, [](const E& x) { return pick(x[0], {0, 2, 1}); }));
  add(S("pick batch from shared", OpId::Pick, {A({4})}, [](const E& x) { return pick(x[0], {1, 3, 1}); }));
  add(S("lookup", OpId::Lookup, {A({6, 3})}, [](const E& x) { return lookup(x[0], 2); }));
  add(S("lookup repeated ids", OpId::Lookup, {A({6, 3})}, [](const E& x) { return lookup(x[0], {1, 4, 1}); }));
  // Reductions.
  add(S("sum", OpId::Sum, {A({2, 3}, 2)}, [](const E& x) { return sum(x[0]); }));
  add(S("sum_dim 0", OpId::SumDim, {A({2, 3})}, [](const E& x) { return sum(x[0], 0); }));
  add(S("sum_dim last batched", OpId::SumDim, {A({2, 3}, 2)}, [](const E& x) { return sum(x[0], -1); }));
  add(S("sum_batch", OpId::SumBatch, {A({3}, 4)}, [](const E& x) { return sum_batch(x[0]); }));
  add(S("max_dim", OpId::MaxDim, {A({4, 3})}, [](const E& x) { return max(x[0], 1); }));
  add(S("min_dim", OpId::MinDim, {A({4, 3}, 2)}, [](const E& x) { return min(x[0], 0); }));
  add(S("logsumexp", OpId::LogSumExp, {A({5})}, [](const E& x) { return logsumexp(x[0]); }));
  add(S("logsumexp dim 0", OpId::LogSumExp, {A({3, 4}, 2)}, [](const E& x) { return logsumexp(x[0], 0); }));
  // Softmax and losses.
  add(S("softmax", OpId::Softmax, {A({5})}, [](const E& x) { return softmax(x[0]); }));
  add(S("softmax dim 0", OpId::Softmax, {A({3, 4})}, [](const E& x) { return softmax(x[0], 0); }));
  add(S("log_softmax", OpId::LogSoftmax, {A({5}, 2)}, [](const E& x) { return log_softmax(x[0]); }));
  add(S("pick_neg_log_softmax", OpId::PickNegLogSoftmax, {A({5})}, [](const E& x) { return pick_neg_log_softmax(x[0], 2); }));
  add(S("pick_neg_log_softmax batched", OpId::PickNegLogSoftmax, {A({5}, 3)},
        [](const E& x) { return pick_neg_log_softmax(x[0], {0, 4, 2}); }));
  // Recurrent cells. Gates in [-2, 2] keep every sigmoid and tanh off its flat tails.
  add(S("lstm_state", OpId::LstmState, {{Shape({8}, 3), -2, 2}, A({2}, 3)}, [](const E& x) { return lstm_state(x[0], x[1]); }));
  add(S("lstm_state zero state", OpId::LstmState, {{Shape({12}, 2), -2, 2}}, [](const E& x) { return lstm_state(x[0]); }));
  add(S("lstm_state long (vector path)", OpId::LstmState, {{Shape{76}, -2, 2}, A({19})},
        [](const E& x) { return lstm_state(x[0], x[1]); }));
  add(S("lstm_output", OpId::LstmOutput, {{Shape({8}, 2), -2, 2}, A({2}, 2)}, [](const E& x) { return lstm_output(x[0], x[1]); }));
  add(S("lstm_state tree node (two states)", OpId::LstmState, {{Shape({10}, 2), -2, 2}, A({2}, 2), A({2}, 2)},
        [](const E& x) { return lstm_state(x[0], {x[1], x[2]}, tree_node_gates()); }));
  add(S("lstm_state tree leaf (no state)", OpId::LstmState, {{Shape({6}, 2), -2, 2}},
        [](const E& x) { return lstm_state(x[0], {}, tree_leaf_gates()); }));
  add(S("lstm_output tree layout", OpId::LstmOutput, {{Shape({10}, 2), -2, 2}, A({2}, 2)},
        [](const E& x) { return lstm_output(x[0], x[1], tree_node_gates()); }));
  add(S("lstm step", OpId::LstmOutput, {{Shape({76}, 2), -2, 2}, A({19}, 2)}, [](const E& x) {
        Expr c = lstm_state(x[0], x[1]);
        return lstm_output(x[0], c) * c;
      }));
  // Randomness: the graph is reseeded on every rebuild, so the mask and noise repeat.
  add(S("dropout", OpId::Dropout, {A({10})}, [](const E& x) { return dropout(x[0], 0.3); }));
  add(S("gaussian_noise", OpId::GaussianNoise, {A({6})}, [](const E& x) { return gaussian_noise(x[0], 0.5); }));
  // Composites.
  add(S("mean", OpId::Count, {A({2, 3}, 2)}, [](const E& x) { return mean(x[0]); }));
  add(S("mean dim", OpId::Count, {A({2, 3})}, [](const E& x) { return mean(x[0], 1); }));
  add(S("mean_batch", OpId::Count, {A({3}, 4)}, [](const E& x) { return mean_batch(x[0]); }));
  add(S("binary_log_loss", OpId::Count, {Prob({4}), Prob({4})}, [](const E& x) { return binary_log_loss(x[0], x[1]); }));
  add(S("cross_entropy", OpId::Count, {A({5}, 2), Prob({5}, 2)}, [](const E& x) { return cross_entropy(x[0], x[1]); }));
  add(S("log_sigmoid", OpId::Count, {{Shape{5}, -4, 4}}, [](const E& x) { return log_sigmoid(x[0]); }));
  add(S("sum of list", OpId::Count, {A({3}), A({3}), A({3})}, [](const E& x) { return sum(x); }));
  add(S("node used twice", OpId::Count, {A({3})}, [](const E& x) { Expr t = tanh(x[0]); return t * t + t; }));
  // 1-D convolution and pooling over [channels, time].
  add(S("conv1d", OpId::Conv1d, {A({3, 7}), A({4, 3, 3}), A({4})}, [](const E& x) { return conv1d(x[0], x[1], x[2]); }));
  add(S("conv1d no bias batched", OpId::Conv1d, {A({2, 6}, 3), A({3, 2, 2})}, [](const E& x) { return conv1d(x[0], x[1]); }));
  add(S("conv1d same padding", OpId::Conv1d, {A({2, 5}, 2), A({3, 2, 4}), A({3})},
        [](const E& x) { return conv1d(x[0], x[1], x[2], {1, Pad1d::same_length(), 1}); }));
  add(S("conv1d stride 2 pad 1/2", OpId::Conv1d, {A({2, 7}, 2), A({2, 2, 3}), A({2})},
        [](const E& x) { return conv1d(x[0], x[1], x[2], {2, Pad1d::explicit_lr(1, 2), 1}); }));
  add(S("conv1d dilation 2", OpId::Conv1d, {A({3, 8}), A({2, 3, 3}), A({2})},
        [](const E& x) { return conv1d(x[0], x[1], x[2], {1, Pad1d::both(1), 2}); }));
  add(S("conv1d stride 3 dilation 2 batched", OpId::Conv1d, {A({2, 11}, 2), A({3, 2, 2})},
        [](const E& x) { return conv1d(x[0], x[1], {3, Pad1d::none(), 2}); }));
  add(S("conv1d width 1", OpId::Conv1d, {A({4, 3}), A({2, 4, 1}), A({2})}, [](const E& x) { return conv1d(x[0], x[1], x[2]); }));
  add(S("max_pool1d", OpId::MaxPool1d, {A({3, 6})}, [](const E& x) { return max_pool1d(x[0], 2); }));
  add(S("max_pool1d overlapping batched", OpId::MaxPool1d, {A({2, 7}, 2)}, [](const E& x) { return max_pool1d(x[0], 3, 2); }));
  add(S("avg_pool1d", OpId::AvgPool1d, {A({2, 7}, 2)}, [](const E& x) { return avg_pool1d(x[0], 3, 1); }));
  add(S("avg_pool1d global", OpId::AvgPool1d, {A({3, 5})}, [](const E& x) { return avg_pool1d(x[0], 5); }));
  add(S("max_over_time", OpId::MaxDim, {A({3, 5}, 2)}, [](const E& x) { return max_over_time(x[0]); }));
  add(S("avg_over_time", OpId::Count, {A({3, 5})}, [](const E& x) { return avg_over_time(x[0]); }));
  add(S("kmax_pool", OpId::KMaxPool, {A({3, 6})}, [](const E& x) { return kmax_pool(x[0], 3); }));
  add(S("kmax_pool batched", OpId::KMaxPool, {A({2, 5}, 3)}, [](const E& x) { return kmax_pool(x[0], 2); }));
  add(S("batch_to_columns", OpId::BatchToColumns, {A({3}, 4)}, [](const E& x) { return batch_to_columns(x[0]); }));
  add(S("conv1d then kmax", OpId::Count, {A({2, 6}), A({3, 2, 3}), A({3})},
        [](const E& x) { return tanh(kmax_pool(conv1d(x[0], x[1], x[2]), 2)); }));
  return v;
}

BadSample B(std::string name, OpId op, std::vector<Shape> shapes, Build b, std::string expect) {
  return {std::move(name), op, std::move(shapes), std::move(b), std::move(expect)};
}

std::vector<BadSample> make_bad() {
  std::vector<BadSample> v;
  v.push_back(B("add mismatched", OpId::Add, {Shape{3}, Shape{4}}, [](const E& x) { return x[0] + x[1]; },
                "add: shapes [3] and [4] differ (only the batch and one-element operands broadcast); got a=[3] b=[4]"));
  v.push_back(B("add batches", OpId::Add, {Shape({3}, 2), Shape({3}, 3)}, [](const E& x) { return x[0] + x[1]; },
                "add: batch sizes differ (2 vs 3); got a=[3]x2 b=[3]x3"));
  v.push_back(B("multiply mismatched", OpId::Mul, {Shape{2, 3}, Shape{3, 2}}, [](const E& x) { return x[0] * x[1]; },
                "multiply: shapes [2,3] and [3,2] differ"));
  v.push_back(B("matmul inner", OpId::Matmul, {Shape{3, 4}, Shape({5}, 8)}, [](const E& x) { return matmul(x[0], x[1]); },
                "matmul: a.cols (4) != b.rows (5); got a=[3,4] b=[5]x8"));
  v.push_back(B("matmul rank", OpId::Matmul, {Shape{2, 2, 2}, Shape{2}}, [](const E& x) { return matmul(x[0], x[1]); },
                "matmul: a must be a vector or a matrix; got a=[2,2,2] b=[2]"));
  v.push_back(B("affine bias", OpId::Affine, {Shape{2}, Shape{3, 4}, Shape{4}}, [](const E& x) { return affine({x[0], x[1], x[2]}); },
                "affine: W1*x1 has shape [3] but b has [2]; got b=[2] W1=[3,4] x1=[4]"));
  v.push_back(B("affine inner", OpId::Affine, {Shape{3}, Shape{3, 4}, Shape{4}, Shape{3, 2}, Shape{5}},
                [](const E& x) { return affine({x[0], x[1], x[2], x[3], x[4]}); },
                "affine: W2.cols (2) != x2.rows (5); got b=[3] W1=[3,4] x1=[4] W2=[3,2] x2=[5]"));
  v.push_back(B("affine pairs", OpId::Affine, {Shape{3}, Shape{3, 4}}, [](const E& x) { return affine({x[0], x[1]}); },
                "affine: takes 3 or more arguments, got 2"));
  v.push_back(B("transpose rank", OpId::Transpose, {Shape{2, 2, 2}}, [](const E& x) { return transpose(x[0]); },
                "transpose: needs a vector or a matrix; got x=[2,2,2]"));
  v.push_back(B("dot shapes", OpId::Dot, {Shape{3}, Shape{4}}, [](const E& x) { return dot(x[0], x[1]); },
                "dot: operands must have the same shape; got a=[3] b=[4]"));
  v.push_back(B("squared_distance shapes", OpId::SquaredDistance, {Shape{3}, Shape{2}},
                [](const E& x) { return squared_distance(x[0], x[1]); }, "squared_distance: operands must have the same shape"));
  v.push_back(B("reshape size", OpId::Reshape, {Shape{2, 3}}, [](const E& x) { return reshape(x[0], Shape{4}); },
                "reshape: cannot reshape 6 elements per example into [4]; got x=[2,3]"));
  v.push_back(B("concat dims", OpId::Concat, {Shape{2, 3}, Shape{3, 3}}, [](const E& x) { return concat({x[0], x[1]}, 1); },
                "concat: shapes must agree except along dim 1; got x0=[2,3] x1=[3,3]"));
  v.push_back(B("concat_batch shapes", OpId::ConcatBatch, {Shape({2}, 2), Shape({3}, 2)},
                [](const E& x) { return concat_batch({x[0], x[1]}); },
                "concat_batch: operands must have the same shape (batches may differ); got x0=[2]x2 x1=[3]x2"));
  v.push_back(B("lstm_state gates", OpId::LstmState, {Shape{6}}, [](const E& x) { return lstm_state(x[0]); },
                "lstm_state: gates must be a vector of 4 x hidden pre-activations; got gates=[6]"));
  v.push_back(B("lstm_state state size", OpId::LstmState, {Shape{8}, Shape{3}}, [](const E& x) { return lstm_state(x[0], x[1]); },
                "lstm_state: the cell state must be a vector of hidden size 2 (gates / 4); got gates=[8] c0=[3]"));
  v.push_back(B("lstm_state forget gate", OpId::LstmState, {Shape{8}, Shape{2}, Shape{2}},
                [](const E& x) { return lstm_state(x[0], {x[1], x[2]}, LstmGates{}); },
                "lstm_state: previous state 1 has no forget gate in the layout"));
  v.push_back(B("lstm_output batches", OpId::LstmOutput, {Shape({8}, 2), Shape({2}, 3)},
                [](const E& x) { return lstm_output(x[0], x[1]); },
                "lstm_output: the cell state's batch must be the gates' batch; got gates=[8]x2 c=[2]x3"));
  v.push_back(B("slice_batch bounds", OpId::SliceBatch, {Shape({2}, 3)}, [](const E& x) { return slice_batch(x[0], 2, 4); },
                "slice_batch: batch range [2, 4) is empty or out of bounds for [2]x3 (batch 3)"));
  v.push_back(B("pick_batch item", OpId::SliceBatch, {Shape({2}, 3)}, [](const E& x) { return pick_batch(x[0], -1); },
                "slice_batch: batch range [-1, 0) is empty or out of bounds for [2]x3 (batch 3)"));
  v.push_back(B("concat batches", OpId::Concat, {Shape({2}, 2), Shape({2}, 3)}, [](const E& x) { return concat({x[0], x[1]}); },
                "concat: batch sizes differ (2 vs 3)"));
  v.push_back(B("slice bounds", OpId::Slice, {Shape{4}}, [](const E& x) { return slice(x[0], 0, 2, 7); },
                "slice: range [2, 7) is empty or out of bounds for dim 0 of size 4"));
  v.push_back(B("slice dim", OpId::Slice, {Shape{4}}, [](const E& x) { return slice(x[0], 1, 0, 1); },
                "slice: dim 1 out of range for [4]"));
  v.push_back(B("pick index", OpId::Pick, {Shape{5}}, [](const E& x) { return pick(x[0], 7); },
                "pick: index 7 out of range [0, 5) for dim 0 of [5]"));
  v.push_back(B("pick batch", OpId::Pick, {Shape({5}, 3)}, [](const E& x) { return pick(x[0], {1, 2}); },
                "pick: 2 indices for a batch of 3; got x=[5]x3"));
  v.push_back(B("lookup id", OpId::Lookup, {Shape{6, 3}}, [](const E& x) { return lookup(x[0], 9); },
                "lookup: id 9 out of range [0, 6) for a table of shape [6,3]"));
  v.push_back(B("lookup negative id", OpId::Lookup, {Shape{6, 3}}, [](const E& x) { return lookup(x[0], {1, -1}); },
                "lookup: id -1 out of range [0, 6)"));
  v.push_back(B("sum_dim dim", OpId::SumDim, {Shape{2, 3}}, [](const E& x) { return sum(x[0], 3); },
                "sum_dim: dim 3 out of range for [2,3]"));
  v.push_back(B("max_dim scalar", OpId::MaxDim, {Shape{}}, [](const E& x) { return max(x[0], 0); },
                "max_dim: needs at least one dimension to reduce; got x=[]"));
  v.push_back(B("min_dim dim", OpId::MinDim, {Shape{2}}, [](const E& x) { return min(x[0], -2); },
                "min_dim: dim -2 out of range for [2]"));
  v.push_back(B("logsumexp dim", OpId::LogSumExp, {Shape{2}}, [](const E& x) { return logsumexp(x[0], 1); },
                "logsumexp: dim 1 out of range"));
  v.push_back(B("softmax dim", OpId::Softmax, {Shape{3}}, [](const E& x) { return softmax(x[0], 2); },
                "softmax: dim 2 out of range for [3]"));
  v.push_back(B("log_softmax dim", OpId::LogSoftmax, {Shape{3}}, [](const E& x) { return log_softmax(x[0], 1); },
                "log_softmax: dim 1 out of range for [3]"));
  v.push_back(B("pick_neg_log_softmax label", OpId::PickNegLogSoftmax, {Shape{5}},
                [](const E& x) { return pick_neg_log_softmax(x[0], 5); },
                "pick_neg_log_softmax: label 5 out of range [0, 5) for scores [5]"));
  v.push_back(B("pick_neg_log_softmax rank", OpId::PickNegLogSoftmax, {Shape{5, 2}},
                [](const E& x) { return pick_neg_log_softmax(x[0], 1); },
                "pick_neg_log_softmax: scores must be a vector of class scores; got x=[5,2]"));
  v.push_back(B("pick_neg_log_softmax labels", OpId::PickNegLogSoftmax, {Shape({5}, 4)},
                [](const E& x) { return pick_neg_log_softmax(x[0], {1, 2}); },
                "pick_neg_log_softmax: 2 labels for a batch of 4; got x=[5]x4"));
  v.push_back(B("dropout p", OpId::Dropout, {Shape{3}}, [](const E& x) { return dropout(x[0], 1.0); },
                "dropout: probability must be in [0, 1), got 1"));
  v.push_back(B("gaussian_noise stddev", OpId::GaussianNoise, {Shape{3}}, [](const E& x) { return gaussian_noise(x[0], -1); },
                "gaussian_noise: stddev must be non-negative"));
  v.push_back(B("divide mismatched", OpId::Div, {Shape{2}, Shape{3}}, [](const E& x) { return x[0] / x[1]; },
                "divide: shapes [2] and [3] differ"));
  v.push_back(B("binary_log_loss shapes", OpId::Count, {Shape{2}, Shape{3}}, [](const E& x) { return binary_log_loss(x[0], x[1]); },
                "binary_log_loss: p and target must have the same shape; got p=[2] target=[3]"));
  v.push_back(B("cross_entropy shapes", OpId::Count, {Shape{2}, Shape{3}}, [](const E& x) { return cross_entropy(x[0], x[1]); },
                "cross_entropy: scores and target distribution must have the same shape"));
  v.push_back(B("conv1d kernel wider than input", OpId::Conv1d, {Shape{3, 4}, Shape{2, 3, 5}},
                [](const E& x) { return conv1d(x[0], x[1]); },
                "conv1d: kernel of width 5 (dilation 1, span 5) is wider than the padded input (4 time steps + 0 + 0 padding); got x=[3,4] W=[2,3,5]"));
  v.push_back(B("conv1d dilated span", OpId::Conv1d, {Shape{1, 6}, Shape{1, 1, 3}},
                [](const E& x) { return conv1d(x[0], x[1], {1, Pad1d::none(), 3}); },
                "conv1d: kernel of width 3 (dilation 3, span 7) is wider than the padded input"));
  v.push_back(B("conv1d channels", OpId::Conv1d, {Shape{3, 8}, Shape{2, 4, 3}}, [](const E& x) { return conv1d(x[0], x[1]); },
                "conv1d: W has 4 input channels but x has 3; got x=[3,8] W=[2,4,3]"));
  v.push_back(B("conv1d x rank", OpId::Conv1d, {Shape{8}, Shape{2, 1, 3}}, [](const E& x) { return conv1d(x[0], x[1]); },
                "conv1d: x must be [channels, time]; got x=[8] W=[2,1,3]"));
  v.push_back(B("conv1d bias", OpId::Conv1d, {Shape{3, 8}, Shape{2, 3, 3}, Shape{3}},
                [](const E& x) { return conv1d(x[0], x[1], x[2]); },
                "conv1d: b must be [2] (one bias per output channel); got x=[3,8] W=[2,3,3] b=[3]"));
  v.push_back(B("conv1d stride", OpId::Conv1d, {Shape{3, 8}, Shape{2, 3, 3}},
                [](const E& x) { return conv1d(x[0], x[1], {0, Pad1d::none(), 1}); },
                "conv1d: stride must be at least 1, got 0"));
  v.push_back(B("max_pool1d window", OpId::MaxPool1d, {Shape{2, 3}}, [](const E& x) { return max_pool1d(x[0], 4); },
                "max_pool1d: window of 4 is wider than the input's 3 time steps; got x=[2,3]"));
  v.push_back(B("avg_pool1d rank", OpId::AvgPool1d, {Shape{6}}, [](const E& x) { return avg_pool1d(x[0], 2); },
                "avg_pool1d: x must be [channels, time]; got x=[6]"));
  v.push_back(B("kmax_pool k", OpId::KMaxPool, {Shape({2, 3}, 2)}, [](const E& x) { return kmax_pool(x[0], 4); },
                "kmax_pool: k = 4 is more than the input's 3 time steps; got x=[2,3]x2"));
  v.push_back(B("batch_to_columns rank", OpId::BatchToColumns, {Shape({2, 2}, 3)}, [](const E& x) { return batch_to_columns(x[0]); },
                "batch_to_columns: x must be a vector per batch item; got x=[2,2]x3"));
  v.push_back(B("max_over_time rank", OpId::Count, {Shape{4}}, [](const E& x) { return max_over_time(x[0]); },
                "max_over_time: x must be [channels, time]; got x=[4]"));
  return v;
}

}  // namespace

const std::vector<OpSample>& op_samples() {
  static const std::vector<OpSample> v = make_samples();
  return v;
}

const std::vector<BadSample>& bad_samples() {
  static const std::vector<BadSample> v = make_bad();
  return v;
}

}  // namespace flare::testing
