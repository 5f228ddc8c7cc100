// Linear algebra: matmul, affine (b + sum W_i x_i), transpose, dot, squared distance.
// Matrix products go to the backend's gemm; a batch-1 matrix against a batch of vectors is
// one gemm over the whole batch, which is what makes manual mini-batching fast.
#include "ops/deferred_ger.h"
#include "ops/helpers.h"
#include "flare/ops.h"

namespace flare::ops {
namespace {

// A product op(A)[m,k] x B[k,n] per example, each side batch 1 (shared) or batch B.
struct MM {
  int64_t m, k, n, ba, bb, by;
};

MM mm_of(const Shape& a, const Shape& b, const Shape& y) {
  MM p;
  p.m = a.nd() == 1 ? 1 : a.dim(0);
  p.k = a.nd() == 1 ? a.dim(0) : a.dim(1);
  p.n = b.nd() == 1 ? 1 : b.dim(1);
  p.ba = a.batch(), p.bb = b.batch(), p.by = y.batch();
  return p;
}

// y (+)= a * b over the batch.
void mm_forward(Backend& be, DType t, const MM& p, const void* a, const void* b, void* y, double beta) {
  if (p.by == 1) {
    be.gemm(t, false, false, p.m, p.n, p.k, 1.0, a, p.k, b, p.n, beta, y, p.n);
  } else if (p.ba == 1 && p.n == 1 && p.bb == p.by) {
    // Shared matrix, batch of vectors: Y^T [B,m] = X^T [B,k] * A^T, one gemm. (A vector shared
    // too, in an affine whose other products are batched, takes the general form below.)
    be.gemm(t, false, true, p.by, p.m, p.k, 1.0, b, p.k, a, p.k, beta, y, p.m);
  } else {
    be.gemm_batched(t, false, false, p.m, p.n, p.k, 1.0, a, p.k, p.ba == 1 ? 0 : p.m * p.k, b, p.n,
                    p.bb == 1 ? 0 : p.k * p.n, beta, y, p.n, p.m * p.n, p.by);
  }
}

// da += dy * b^T and db += a^T * dy, summing over the batch for a shared side.
void mm_backward(Backend& be, DType t, const MM& p, const void* a, const void* b, const void* dy,
                 void* da, void* db) {
  if (da) {
    if (p.by == 1) {
      be.gemm(t, false, true, p.m, p.k, p.n, 1.0, dy, p.n, b, p.n, 1.0, da, p.k);
    } else if (p.ba == 1 && p.n == 1 && p.bb == p.by) {
      // dA [m,k] += dY^T [m,B] * X [B,k]: the whole batch in one gemm.
      be.gemm(t, true, false, p.m, p.k, p.by, 1.0, dy, p.m, b, p.k, 1.0, da, p.k);
    } else if (p.ba == 1) {
      for (int64_t i = 0; i < p.by; ++i)
        be.gemm(t, false, true, p.m, p.k, p.n, 1.0, offset(dy, i * p.m * p.n, t), p.n,
                offset(b, p.bb == 1 ? 0 : i * p.k * p.n, t), p.n, 1.0, da, p.k);
    } else {
      be.gemm_batched(t, false, true, p.m, p.k, p.n, 1.0, dy, p.n, p.m * p.n, b, p.n,
                      p.bb == 1 ? 0 : p.k * p.n, 1.0, da, p.k, p.m * p.k, p.by);
    }
  }
  if (db) {
    if (p.by == 1) {
      be.gemm(t, true, false, p.k, p.n, p.m, 1.0, a, p.k, dy, p.n, 1.0, db, p.n);
    } else if (p.ba == 1 && p.n == 1 && p.bb == p.by) {
      // dX [B,k] += dY [B,m] * A [m,k]
      be.gemm(t, false, false, p.by, p.k, p.m, 1.0, dy, p.m, a, p.k, 1.0, db, p.k);
    } else if (p.bb == 1) {
      for (int64_t i = 0; i < p.by; ++i)
        be.gemm(t, true, false, p.k, p.n, p.m, 1.0, offset(a, p.ba == 1 ? 0 : i * p.m * p.k, t), p.k,
                offset(dy, i * p.m * p.n, t), p.n, 1.0, db, p.n);
    } else {
      be.gemm_batched(t, true, false, p.k, p.n, p.m, 1.0, a, p.k, p.ba == 1 ? 0 : p.m * p.k, dy, p.n,
                      p.m * p.n, 1.0, db, p.n, p.k * p.n, p.by);
    }
  }
}

Shape product_shape(const ShapeArgs& sa, int ia, int ib, const char* an, const char* bn) {
  const Shape& a = sa.s(ia);
  const Shape& b = sa.s(ib);
  if (a.nd() < 1 || a.nd() > 2) sa.fail(std::string(an) + " must be a vector or a matrix");
  if (b.nd() < 1 || b.nd() > 2) sa.fail(std::string(bn) + " must be a vector or a matrix");
  int64_t ak = a.nd() == 1 ? a.dim(0) : a.dim(1);
  if (ak != b.dim(0))
    sa.fail(std::string(an) + ".cols (" + std::to_string(ak) + ") != " + bn + ".rows (" +
            std::to_string(b.dim(0)) + ")");
  if (a.batch() != 1 && b.batch() != 1 && a.batch() != b.batch())
    sa.fail("batch sizes differ (" + std::to_string(a.batch()) + " vs " + std::to_string(b.batch()) + ")");
  int64_t batch = std::max(a.batch(), b.batch());
  if (a.nd() == 1) return b.nd() == 1 ? Shape({}, batch) : Shape({b.dim(1)}, batch);
  return b.nd() == 1 ? Shape({a.dim(0)}, batch) : Shape({a.dim(0), b.dim(1)}, batch);
}

// ---- matmul ----
Shape matmul_shape(const ShapeArgs& sa) { return product_shape(sa, 0, 1, "a", "b"); }
void matmul_fwd(const Ctx& c) {
  mm_forward(c.be, c.t(), mm_of(c.xs(0), c.xs(1), c.y.shape), c.x(0), c.x(1), c.out(), 0.0);
}
// The product W x (argument w times argument w + 1) in backward: when W is a parameter matrix
// and x one vector per example (of a few), dW's rank-1 terms are deferred (ops/deferred_ger.h)
// and mm_backward computes only dx; otherwise pending terms of parameter gradients it writes
// are applied first.
// Whether the product's dW term is deferrable as rank-1 terms: W a trainable float32 parameter
// matrix times one column per example, for one example or a few (the nodes of one tree level,
// TreeLSTM::nodes) that share W; a larger batch is one gemm, which BLAS does better. The
// single rule for the op and the static planner.
constexpr int64_t kDeferredBatch = 8;
bool rank1_weight_grad(const MM& p, const Node& w, DType t) {
  return p.n == 1 && p.ba == 1 && p.bb == p.by && p.by <= kDeferredBatch && p.m > 1 && p.k > 1 &&
         w.shape.nd() == 2 && w.op == OpId::Param && w.needs_grad && t == DType::f32;
}

void product_bwd(const Ctx& c, int w, const MM& p) {
  void* dw = c.dx(w);
  void* dx = c.dx(w + 1);
  if (dw && rank1_weight_grad(p, c.arg(w), c.t()) && can_defer_ger(c, w)) {
    // What mm_backward's gemm would add, dW[m,k] += sum over examples of dy x^T, as one rank-1
    // term per example (rounded as ger() rounds them, not as a batch's gemm would).
    for (int64_t i = 0; i < p.by; ++i)
      defer_ger(c, dw, p.m, p.k, offset(c.dy(), i * p.m, c.t()), offset(c.x(w + 1), i * p.k, c.t()));
    dw = nullptr;
  } else if (dw && c.arg(w).op == OpId::Param) {
    flush_deferred(dw);
  }
  if (dx && c.arg(w + 1).op == OpId::Param) flush_deferred(dx);
  mm_backward(c.be, c.t(), p, c.x(w), c.x(w + 1), c.dy(), dw, dx);
}

void matmul_bwd(const Ctx& c) { product_bwd(c, 0, mm_of(c.xs(0), c.xs(1), c.y.shape)); }

// ---- affine: args b, W1, x1, W2, x2, ... ----
Shape affine_shape(const ShapeArgs& sa) {
  if (sa.nargs % 2 != 1) sa.fail("needs b followed by (W, x) pairs");
  const Shape& b = sa.s(0);
  int64_t batch = sa.common_batch();
  for (int i = 1; i < sa.nargs; i += 2) {
    const Shape& w = sa.s(i);
    const Shape& x = sa.s(i + 1);
    // The common case is checked without building names; errors rebuild them for the message.
    bool fast_ok = w.nd() == 2 && x.nd() == 1 && w.dim(1) == x.dim(0) && b.nd() == 1 && w.dim(0) == b.dim(0) &&
                   w.batch() == 1;
    if (fast_ok) continue;
    std::string wn = "W" + std::to_string((i + 1) / 2), xn = "x" + std::to_string((i + 1) / 2);
    Shape p = product_shape(sa, i, i + 1, wn.c_str(), xn.c_str());
    if (!p.same_dims(b))
      sa.fail(wn + "*" + xn + " has shape " + p.with_batch(1).str() + " but b has " + b.with_batch(1).str());
  }
  return b.with_batch(batch);
}
void affine_fwd(const Ctx& c) {
  const Shape& bs = c.xs(0);
  // y = b, broadcast over the batch when b is shared.
  c.be.copy_2d(c.t(), c.out(), bs.size(), c.x(0), bs.batch() == 1 ? 0 : bs.size(), c.y.shape.batch(),
               bs.size(), false);
  for (int i = 1; i < c.nargs; i += 2) {
    MM p = mm_of(c.xs(i), c.xs(i + 1), c.y.shape);
    mm_forward(c.be, c.t(), p, c.x(i), c.x(i + 1), c.out(), 1.0);
  }
}
void affine_bwd(const Ctx& c) {
  if (void* db = c.dx(0)) {
    if (c.arg(0).op == OpId::Param) flush_deferred(db);
    acc_batch_sum(c.be, c.t(), db, c.xs(0), c.dy(), c.y.shape);
  }
  for (int i = 1; i < c.nargs; i += 2) product_bwd(c, i, mm_of(c.xs(i), c.xs(i + 1), c.y.shape));
}

// ---- transpose ----
Shape transpose_shape(const ShapeArgs& sa) {
  const Shape& x = sa.s(0);
  if (x.nd() == 1) return Shape({1, x.dim(0)}, x.batch());
  if (x.nd() != 2) sa.fail("needs a vector or a matrix");
  return Shape({x.dim(1), x.dim(0)}, x.batch());
}
void transpose_fwd(const Ctx& c) {
  c.be.transpose(c.t(), c.out(), c.x(0), c.xs(0).rows(), c.xs(0).cols(), c.xs(0).batch(), false);
}
void transpose_bwd(const Ctx& c) {
  if (void* d = c.dx(0))
    c.be.transpose(c.t(), d, c.dy(), c.y.shape.rows(), c.y.shape.cols(), c.y.shape.batch(), true);
}

// ---- dot and squared distance: one value per example ----
Shape pair_reduce_shape(const ShapeArgs& sa) {
  const Shape& a = sa.s(0);
  if (!a.same_dims(sa.s(1))) sa.fail("operands must have the same shape");
  return Shape({}, sa.common_batch());
}

// aux holds a*b (dot) or a-b (squared distance), y-batch sized.
template <Binary F>
void pair_prepare(const Ctx& c, void* tmp) {
  Shape full = c.xs(0).with_batch(c.y.shape.batch());
  c.be.binary(F, c.t(), tmp, c.x(0), c.x(1), make_bcast(c.xs(0), c.xs(1), full));
}

void dot_fwd(const Ctx& c) {
  const int64_t n = c.xs(0).size(), batch = c.y.shape.batch();
  void* tmp = scratch(c, n * batch);
  pair_prepare<Binary::Mul>(c, tmp);
  c.be.reduce(Reduce::Sum, c.t(), c.out(), tmp, batch, n, 1);
}
void dot_bwd(const Ctx& c) {
  const int64_t n = c.xs(0).size(), batch = c.y.shape.batch();
  Shape full = c.xs(0).with_batch(batch);
  Shape per({}, batch);
  void* tmp = scratch(c, n * batch);
  for (int i = 0; i < 2; ++i) {
    void* d = c.dx(i);
    if (!d) continue;
    // d(arg) += dy * other, dy broadcast over the example's elements.
    c.be.binary(Binary::Mul, c.t(), tmp, c.x(1 - i), c.dy(), make_bcast(c.xs(1 - i), per, full));
    acc_batch_sum(c.be, c.t(), d, c.xs(i), tmp, full);
  }
}

void sqdist_fwd(const Ctx& c) {
  const int64_t n = c.xs(0).size(), batch = c.y.shape.batch();
  void* diff = scratch(c, n * batch);
  c.y.attrs.aux = diff;
  pair_prepare<Binary::Sub>(c, diff);
  void* sq = scratch(c, n * batch);
  c.be.unary(Unary::Square, c.t(), sq, diff, n * batch, 0);
  c.be.reduce(Reduce::Sum, c.t(), c.out(), sq, batch, n, 1);
}
void sqdist_bwd(const Ctx& c) {
  const int64_t n = c.xs(0).size(), batch = c.y.shape.batch();
  Shape full = c.xs(0).with_batch(batch);
  Shape per({}, batch);
  void* tmp = scratch(c, n * batch);
  // d/da = 2 (a - b) dy; d/db = -2 (a - b) dy
  c.be.binary(Binary::Mul, c.t(), tmp, c.y.attrs.aux, c.dy(), make_bcast(full, per, full));
  for (int i = 0; i < 2; ++i) {
    void* d = c.dx(i);
    if (!d) continue;
    void* scaled = scratch(c, n * batch);
    c.be.unary(Unary::Scale, c.t(), scaled, tmp, n * batch, i == 0 ? 2.0 : -2.0);
    acc_batch_sum(c.be, c.t(), d, c.xs(i), scaled, full);
  }
}

}  // namespace

void deferrable_weights(const Node& y, Node* const* args, int nargs, std::vector<int>& ws) {
  // The products product_bwd is called for: matmul's (W, x) and affine's (W_i, x_i) pairs.
  int first = 0, last = 0;
  if (y.op == OpId::Matmul) first = 0, last = 0;
  else if (y.op == OpId::Affine) first = 1, last = nargs - 2;
  else return;
  for (int w = first; w <= last; w += 2)
    if (rank1_weight_grad(mm_of(args[w]->shape, args[w + 1]->shape, y.shape), *args[w], y.dtype))
      ws.push_back(w);
}

void register_linalg(OpDef* t) {
  // y = a b;  da += dy b^T, db += a^T dy
  t[int(OpId::Matmul)] = {"matmul", "a,b", 2, 2, matmul_shape, matmul_fwd, matmul_bwd, BatchKind::SharedFirst};
  // y = b + sum_i W_i x_i;  db += dy, dW_i += dy x_i^T, dx_i += W_i^T dy
  t[int(OpId::Affine)] = {"affine", "b,W+x*", 3, -1, affine_shape, affine_fwd, affine_bwd, BatchKind::Affine};
  // y = x^T;  dx += dy^T
  t[int(OpId::Transpose)] = {"transpose", "x", 1, 1, transpose_shape, transpose_fwd, transpose_bwd, BatchKind::PerExample};
  // y = sum(a * b);  da += dy b, db += dy a
  t[int(OpId::Dot)] = {"dot", "a,b", 2, 2, pair_reduce_shape, dot_fwd, dot_bwd, BatchKind::PerExample};
  // y = sum((a - b)^2);  da += 2 dy (a - b), db -= 2 dy (a - b)
  t[int(OpId::SquaredDistance)] = {"squared_distance", "a,b", 2, 2, pair_reduce_shape, sqdist_fwd, sqdist_bwd, BatchKind::PerExample};
}

}  // namespace flare::ops

namespace flare {

Expr matmul(const Expr& a, const Expr& b) { return a.graph().add(OpId::Matmul, {a, b}); }
Expr affine(const std::vector<Expr>& args) {
  if (args.empty()) throw ShapeError("affine: needs b followed by (W, x) pairs; got no arguments");
  return args[0].graph().add(OpId::Affine, args.data(), uint32_t(args.size()));
}
Expr affine(std::initializer_list<Expr> args) {
  if (args.size() == 0) throw ShapeError("affine: needs b followed by (W, x) pairs; got no arguments");
  return args.begin()->graph().add(OpId::Affine, args.begin(), uint32_t(args.size()));
}
Expr transpose(const Expr& x) { return x.graph().add(OpId::Transpose, {x}); }
Expr dot(const Expr& a, const Expr& b) { return a.graph().add(OpId::Dot, {a, b}); }
Expr squared_distance(const Expr& a, const Expr& b) { return a.graph().add(OpId::SquaredDistance, {a, b}); }

}  // namespace flare
