#pragma once
// Element-wise math, written once for every device: each function is a constexpr-dispatched
// template usable from host code and from CUDA kernels (FLARE_HD). The CPU backend adds SLEEF
// vector paths for the transcendental ones; the scalar forms here are the reference.
#include <cmath>

#include "flare/backend.h"

#ifdef __CUDACC__
#define FLARE_HD __host__ __device__ __forceinline__
#else
#define FLARE_HD inline
#endif

namespace flare::fn {

template <typename T>
FLARE_HD T sigmoid(T x) {
  // Two branches keep exp's argument non-positive, so neither side overflows.
  if (x >= T(0)) return T(1) / (T(1) + exp(-x));
  T e = exp(x);
  return e / (T(1) + e);
}

template <typename T>
FLARE_HD T softplus(T x) {
  // log(1 + e^x) = max(x, 0) + log1p(e^-|x|), stable for large |x|.
  return (x > T(0) ? x : T(0)) + log1p(exp(-fabs(x)));
}

/// y = f(x); alpha is the op's scalar attribute.
template <Unary F, typename T>
FLARE_HD T unary(T x, T alpha) {
  if constexpr (F == Unary::Copy) return x;
  else if constexpr (F == Unary::Neg) return -x;
  else if constexpr (F == Unary::Scale) return alpha * x;
  else if constexpr (F == Unary::AddScalar) return x + alpha;
  else if constexpr (F == Unary::Tanh) return tanh(x);
  else if constexpr (F == Unary::Sigmoid) return sigmoid(x);
  else if constexpr (F == Unary::Relu) return x > T(0) ? x : T(0);
  else if constexpr (F == Unary::Elu) return x > T(0) ? x : alpha * (exp(x) - T(1));
  else if constexpr (F == Unary::Softplus) return softplus(x);
  else if constexpr (F == Unary::Exp) return exp(x);
  else if constexpr (F == Unary::Log) return log(x);
  else if constexpr (F == Unary::Sqrt) return sqrt(x);
  else if constexpr (F == Unary::Square) return x * x;
  else if constexpr (F == Unary::Abs) return fabs(x);
  else if constexpr (F == Unary::LogSigmoid) return -softplus(-x);
  else return x;
}

/// dy * f'(x), given x, y = f(x) and dy.
template <Unary F, typename T>
FLARE_HD T unary_grad(T x, T y, T dy, T alpha) {
  if constexpr (F == Unary::Copy) return dy;
  else if constexpr (F == Unary::Neg) return -dy;
  else if constexpr (F == Unary::Scale) return alpha * dy;
  else if constexpr (F == Unary::AddScalar) return dy;
  else if constexpr (F == Unary::Tanh) return dy * (T(1) - y * y);
  else if constexpr (F == Unary::Sigmoid) return dy * y * (T(1) - y);
  else if constexpr (F == Unary::Relu) return x > T(0) ? dy : T(0);
  else if constexpr (F == Unary::Elu) return x > T(0) ? dy : dy * (y + alpha);
  else if constexpr (F == Unary::Softplus) return dy * sigmoid(x);
  else if constexpr (F == Unary::Exp) return dy * y;
  else if constexpr (F == Unary::Log) return dy / x;
  else if constexpr (F == Unary::Sqrt) return dy / (T(2) * y);
  else if constexpr (F == Unary::Square) return dy * T(2) * x;
  else if constexpr (F == Unary::Abs) return x > T(0) ? dy : (x < T(0) ? -dy : T(0));
  else if constexpr (F == Unary::LogSigmoid) return dy * sigmoid(-x);
  else return dy;
}

/// y = f(a, b).
template <Binary F, typename T>
FLARE_HD T binary(T a, T b) {
  if constexpr (F == Binary::Add) return a + b;
  else if constexpr (F == Binary::Sub) return a - b;
  else if constexpr (F == Binary::Mul) return a * b;
  else if constexpr (F == Binary::Div) return a / b;
  else if constexpr (F == Binary::Max) return a >= b ? a : b;
  else return a <= b ? a : b;
}

/// dy * df/da (Arg == 0) or dy * df/db (Arg == 1). Ties of max/min go to a.
template <Binary F, int Arg, typename T>
FLARE_HD T binary_grad(T a, T b, T y, T dy) {
  if constexpr (F == Binary::Add) return dy;
  else if constexpr (F == Binary::Sub) return Arg == 0 ? dy : -dy;
  else if constexpr (F == Binary::Mul) return Arg == 0 ? dy * b : dy * a;
  else if constexpr (F == Binary::Div) return Arg == 0 ? dy / b : -dy * y / b;
  else if constexpr (F == Binary::Max) return (Arg == 0) == (a >= b) ? dy : T(0);
  else return (Arg == 0) == (a <= b) ? dy : T(0);
}

// The LSTM cell's element-wise step (Backend::lstm), per element, from the activated gates
// si = sigmoid(i), sf = sigmoid(f), tg = tanh(g), so = sigmoid(o) (each backend computes those
// with its own fast unary path) and the cell state c. Gradients are with respect to the
// pre-activations; backends recompute the activations rather than store them.

/// The next cell state sf c + si tg (c = 0 for a zero state).
template <typename T>
FLARE_HD T lstm_state(T si, T sf, T tg, T c) {
  return sf * c + si * tg;
}

/// A second previous state's term of the next cell state (a Tree-LSTM's other child): sf c.
template <typename T>
FLARE_HD T lstm_forget(T sf, T c) {
  return sf * c;
}

/// dy times the derivatives of lstm_forget with respect to f and c.
template <typename T>
FLARE_HD void lstm_forget_grad(T sf, T c, T dy, T& df, T& dc) {
  df = dy * c * sf * (T(1) - sf);
  dc = dy * sf;
}

/// dy times the derivatives of lstm_state with respect to i, f, g and c (the f and c terms are
/// lstm_forget's).
template <typename T>
FLARE_HD void lstm_state_grad(T si, T sf, T tg, T c, T dy, T& di, T& df, T& dg, T& dc) {
  di = dy * tg * si * (T(1) - si);
  dg = dy * si * (T(1) - tg * tg);
  lstm_forget_grad(sf, c, dy, df, dc);
}

/// The hidden output so tc, with tc = tanh(c).
template <typename T>
FLARE_HD T lstm_output(T so, T tc) {
  return so * tc;
}

/// dy times the derivatives of lstm_output with respect to o and c.
template <typename T>
FLARE_HD void lstm_output_grad(T so, T tc, T dy, T& d_o, T& dc) {
  d_o = dy * tc * so * (T(1) - so);
  dc = dy * so * (T(1) - tc * tc);
}

}  // namespace flare::fn

// The lists below let each backend instantiate one kernel per function with a switch.
#define FLARE_FOR_EACH_UNARY(X)                                                                  \
  X(Copy) X(Neg) X(Scale) X(AddScalar) X(Tanh) X(Sigmoid) X(Relu) X(Elu) X(Softplus) X(Exp)      \
  X(Log) X(Sqrt) X(Square) X(Abs) X(LogSigmoid)
#define FLARE_FOR_EACH_BINARY(X) X(Add) X(Sub) X(Mul) X(Div) X(Max) X(Min)
