// Shape and data movement: reshape, concat, slice (split is slices), pick, lookup. All are
// copies of contiguous runs (copy_2d) or row gathers, so every device gets them from two
// primitives.
#include "ops/helpers.h"
#include "flare/ops.h"

namespace flare::ops {
namespace {

// ---- reshape: attrs.i[0] = nd, i[1..4] = dims ----
Shape reshape_shape(const ShapeArgs& sa) {
  Shape s = Shape::of(&sa.attrs.i[1], int(sa.attrs.i[0]), sa.s(0).batch());
  if (s.size() != sa.s(0).size())
    sa.fail("cannot reshape " + std::to_string(sa.s(0).size()) + " elements per example into " +
            s.with_batch(1).str());
  return s;
}
void copy_fwd(const Ctx& c) { c.be.copy(c.t(), c.out(), c.x(0), c.n()); }
void copy_bwd(const Ctx& c) {
  if (void* d = c.dx(0)) c.be.axpy(c.t(), d, c.dy(), c.n(), 1.0);
}

// ---- concat: attrs.i[0] = dim ----
Shape concat_shape(const ShapeArgs& sa) {
  const Shape& a = sa.s(0);
  int d = a.axis(int(sa.attrs.i[0]), "concat");
  int64_t total = 0;
  for (int i = 0; i < sa.nargs; ++i) {
    const Shape& s = sa.s(i);
    bool ok = s.nd() == a.nd() || (a.nd() <= 1 && s.nd() <= 1);
    for (int k = 0; ok && k < a.nd(); ++k) ok = k == d || s.dim(k) == a.dim(k);
    if (!ok) sa.fail("shapes must agree except along dim " + std::to_string(d));
    total += s.nd() == 0 ? 1 : s.dim(d);
  }
  Shape base = a.nd() == 0 ? Shape{1} : a;
  return base.with_dim(d, total).with_batch(sa.common_batch());
}

// Calls f(arg, rows, y_offset, y_ld, x_ld, cols, batch_item) for each contiguous block copy.
template <typename F>
void concat_blocks(const Ctx& c, F f) {
  const Shape& ys = c.y.shape;
  const int d = ys.axis(int(c.y.attrs.i[0]), "concat");
  const int64_t outer = ys.outer(d), inner = ys.inner(d), y_ld = ys.dim(d) * inner;
  int64_t off = 0;
  for (int i = 0; i < c.nargs; ++i) {
    const Shape& s = c.xs(i);
    const int64_t cols = s.size() / outer;
    if (s.batch() == ys.batch()) {
      f(i, outer * ys.batch(), off, y_ld, cols, int64_t(-1));
    } else {
      for (int64_t b = 0; b < ys.batch(); ++b) f(i, outer, off + b * ys.size(), y_ld, cols, b);
    }
    off += cols;
  }
}
void concat_fwd(const Ctx& c) {
  concat_blocks(c, [&](int i, int64_t rows, int64_t off, int64_t ld, int64_t cols, int64_t) {
    c.be.copy_2d(c.t(), offset(c.out(), off, c.t()), ld, c.x(i), cols, rows, cols, false);
  });
}
void concat_bwd(const Ctx& c) {
  concat_blocks(c, [&](int i, int64_t rows, int64_t off, int64_t ld, int64_t cols, int64_t) {
    if (void* d = c.dx(i)) c.be.copy_2d(c.t(), d, cols, offset(c.dy(), off, c.t()), ld, rows, cols, true);
  });
}

// ---- slice: attrs.i = {dim, begin, end} ----
Shape slice_shape(const ShapeArgs& sa) {
  const Shape& x = sa.s(0);
  int d = x.axis(int(sa.attrs.i[0]), "slice");
  int64_t b = sa.attrs.i[1], e = sa.attrs.i[2];
  if (b < 0 || e > x.dim(d) || b >= e)
    throw IndexError("slice: range [" + std::to_string(b) + ", " + std::to_string(e) +
                     ") is empty or out of bounds for dim " + std::to_string(d) + " of size " +
                     std::to_string(x.dim(d)) + " in " + x.str());
  return x.with_dim(d, e - b);
}
struct SliceGeom {
  int64_t rows, cols, x_ld, x_off;
};
SliceGeom slice_geom(const Ctx& c) {
  const Shape& x = c.xs(0);
  int d = x.axis(int(c.y.attrs.i[0]), "slice");
  int64_t inner = x.inner(d);
  return {x.outer(d) * x.batch(), (c.y.attrs.i[2] - c.y.attrs.i[1]) * inner, x.dim(d) * inner,
          c.y.attrs.i[1] * inner};
}
void slice_fwd(const Ctx& c) {
  SliceGeom g = slice_geom(c);
  c.be.copy_2d(c.t(), c.out(), g.cols, offset(c.x(0), g.x_off, c.t()), g.x_ld, g.rows, g.cols, false);
}
void slice_bwd(const Ctx& c) {
  void* d = c.dx(0);
  if (!d) return;
  SliceGeom g = slice_geom(c);
  c.be.copy_2d(c.t(), offset(d, g.x_off, c.t()), g.x_ld, c.dy(), g.cols, g.rows, g.cols, true);
}

// ---- pick: attrs.i[0] = dim, idx = one index or one per example ----
Shape pick_shape(const ShapeArgs& sa) {
  const Shape& x = sa.s(0);
  int d = x.axis(int(sa.attrs.i[0]), "pick");
  const int64_t n = sa.attrs.n_idx;
  if (x.batch() != 1 && n != 1 && n != x.batch())
    sa.fail(std::to_string(n) + " indices for a batch of " + std::to_string(x.batch()));
  const int64_t size = x.nd() == 0 ? 1 : x.dim(d);
  for (int64_t k = 0; k < n; ++k)
    if (sa.attrs.idx[k] < 0 || sa.attrs.idx[k] >= size)
      throw IndexError("pick: index " + std::to_string(sa.attrs.idx[k]) + " out of range [0, " +
                       std::to_string(size) + ") for dim " + std::to_string(d) + " of " + x.str());
  return (x.nd() == 0 ? x : x.without_dim(d)).with_batch(std::max<int64_t>(x.batch(), n));
}
// Source rows (units of `inner` elements) for each output row.
const int32_t* pick_rows(const Ctx& c, int64_t* inner_out) {
  const Shape& x = c.xs(0);
  int d = x.axis(int(c.y.attrs.i[0]), "pick");
  const int64_t outer = x.outer(d), size = x.nd() == 0 ? 1 : x.dim(d), batch = c.y.shape.batch();
  *inner_out = x.inner(d);
  int32_t* rows = c.g->alloc_indices(size_t(batch * outer));
  for (int64_t b = 0; b < batch; ++b) {
    const int64_t xb = x.batch() == 1 ? 0 : b;
    const int32_t id = c.y.attrs.idx[c.y.attrs.n_idx == 1 ? 0 : b];
    for (int64_t o = 0; o < outer; ++o) rows[b * outer + o] = int32_t((xb * outer + o) * size + id);
  }
  return rows;
}
void pick_fwd(const Ctx& c) {
  int64_t inner;
  const int32_t* rows = pick_rows(c, &inner);
  c.be.gather_rows(c.t(), c.out(), c.x(0), rows, c.n() / inner, inner);
}
void pick_bwd(const Ctx& c) {
  void* d = c.dx(0);
  if (!d) return;
  int64_t inner;
  const int32_t* rows = pick_rows(c, &inner);
  c.be.scatter_add_rows(c.t(), d, c.dy(), rows, c.n() / inner, inner);
}

// ---- concat_batch: operands' batch items one after another ----
Shape concat_batch_shape(const ShapeArgs& sa) {
  const Shape& a = sa.s(0);
  int64_t batch = 0;
  for (int i = 0; i < sa.nargs; ++i) {
    if (!sa.s(i).same_dims(a)) sa.fail("operands must have the same shape (batches may differ)");
    batch += sa.s(i).batch();
  }
  return a.with_batch(batch);
}
void concat_batch_fwd(const Ctx& c) {
  int64_t off = 0;
  for (int i = 0; i < c.nargs; ++i) {
    c.be.copy(c.t(), offset(c.out(), off, c.t()), c.x(i), c.xs(i).total());
    off += c.xs(i).total();
  }
}
void concat_batch_bwd(const Ctx& c) {
  int64_t off = 0;
  for (int i = 0; i < c.nargs; ++i) {
    if (void* d = c.dx(i)) c.be.axpy(c.t(), d, offset(c.dy(), off, c.t()), c.xs(i).total(), 1.0);
    off += c.xs(i).total();
  }
}

// ---- slice_batch: attrs.i = {begin, end} over the batch ----
Shape slice_batch_shape(const ShapeArgs& sa) {
  const Shape& x = sa.s(0);
  const int64_t b = sa.attrs.i[0], e = sa.attrs.i[1];
  if (b < 0 || e > x.batch() || b >= e)
    throw IndexError("slice_batch: batch range [" + std::to_string(b) + ", " + std::to_string(e) +
                     ") is empty or out of bounds for " + x.str() + " (batch " + std::to_string(x.batch()) + ")");
  return x.with_batch(e - b);
}
// The items are one contiguous run of x: a copy forward, an accumulation into that run backward.
void slice_batch_fwd(const Ctx& c) {
  c.be.copy(c.t(), c.out(), offset(c.x(0), c.y.attrs.i[0] * c.y.shape.size(), c.t()), c.n());
}
void slice_batch_bwd(const Ctx& c) {
  if (void* d = c.dx(0)) c.be.axpy(c.t(), offset(d, c.y.attrs.i[0] * c.y.shape.size(), c.t()), c.dy(), c.n(), 1.0);
}

// ---- lookup: rows of a [V, ...] table, idx = ids (one per example) ----
Shape lookup_shape(const ShapeArgs& sa) {
  const Shape& t = sa.s(0);
  if (t.nd() < 1 || t.batch() != 1) sa.fail("the table must be a batch-1 tensor of rows [V, ...]");
  if (sa.attrs.n_idx < 1) sa.fail("needs at least one id");
  for (int64_t k = 0; k < sa.attrs.n_idx; ++k)
    if (sa.attrs.idx[k] < 0 || sa.attrs.idx[k] >= t.dim(0))
      throw IndexError("lookup: id " + std::to_string(sa.attrs.idx[k]) + " out of range [0, " +
                       std::to_string(t.dim(0)) + ") for a table of shape " + t.str());
  return t.without_dim(0).with_batch(sa.attrs.n_idx);
}
void lookup_fwd(const Ctx& c) {
  // A table with deferred row steps (Parameter::Deferred) brings the rows read up to date.
  if (c.arg(0).op == OpId::Param && c.arg(0).attrs.param)
    c.arg(0).attrs.param->settle_rows(c.y.attrs.idx, c.y.attrs.n_idx);
  c.be.gather_rows(c.t(), c.out(), c.x(0), c.y.attrs.idx, c.y.attrs.n_idx, c.y.shape.size());
}
void lookup_bwd(const Ctx& c) {
  void* d = c.dx(0);
  if (!d) return;
  c.be.scatter_add_rows(c.t(), d, c.dy(), c.y.attrs.idx, c.y.attrs.n_idx, c.y.shape.size());
  // Sparse and row-gradient parameters remember the rows that now hold gradient.
  Parameter* p = c.arg(0).op == OpId::Param ? c.arg(0).attrs.param : nullptr;
  if (p && p->tracks_rows()) {
    if (c.g)
      c.g->mark_rows(*p, c.y.attrs.idx, c.y.attrs.n_idx);  // into the graph's GradientBuffer, if any
    else
      p->mark_rows(c.y.attrs.idx, c.y.attrs.n_idx);
  }
}

Attrs with_indices(Graph& g, const int32_t* ids, size_t n) {
  Attrs a;
  int32_t* p = g.alloc_indices(n);
  std::copy(ids, ids + n, p);
  a.idx = p;
  a.n_idx = int64_t(n);
  return a;
}

}  // namespace

void register_shape_ops(OpDef* t) {
  // y = x viewed with other dims;  dx += dy
  t[int(OpId::Reshape)] = {"reshape", "x", 1, 1, reshape_shape, copy_fwd, copy_bwd, BatchKind::Elementwise};
  // y = [x0; x1; ...] along dim;  dx_i += the matching block of dy
  t[int(OpId::Concat)] = {"concat", "x*", 1, -1, concat_shape, concat_fwd, concat_bwd, BatchKind::PerExample};
  // y = x[begin:end] along dim;  dx[begin:end] += dy
  t[int(OpId::Slice)] = {"slice", "x", 1, 1, slice_shape, slice_fwd, slice_bwd, BatchKind::PerExample};
  // y = x[idx] along dim;  dx[idx] += dy
  t[int(OpId::Pick)] = {"pick", "x", 1, 1, pick_shape, pick_fwd, pick_bwd, BatchKind::PerExample};
  // y_b = table[id_b];  dtable[id_b] += dy_b
  // y = [x0's batch items; x1's; ...];  dx_i += its block of dy
  t[int(OpId::ConcatBatch)] = {"concat_batch", "x*", 1, -1, concat_batch_shape, concat_batch_fwd, concat_batch_bwd,
                               BatchKind::None};
  // y = x's batch items [begin, end);  dx's items [begin, end) += dy
  // (None: items of different sources are not one run, so each node runs alone; models
  // choose the per-step form when an executor batches across examples, see nn::run.)
  t[int(OpId::SliceBatch)] = {"slice_batch", "x", 1, 1, slice_batch_shape, slice_batch_fwd, slice_batch_bwd,
                              BatchKind::None};
  t[int(OpId::Lookup)] = {"lookup", "table", 1, 1, lookup_shape, lookup_fwd, lookup_bwd, BatchKind::Lookup};
}

}  // namespace flare::ops

namespace flare {

Expr reshape(const Expr& x, const Shape& dims) {
  Attrs a;
  a.i[0] = dims.nd();
  for (int k = 0; k < dims.nd(); ++k) a.i[1 + k] = dims.dim(k);
  return x.graph().add(OpId::Reshape, {x}, a);
}

Expr concat(const std::vector<Expr>& xs, int dim) {
  if (xs.empty()) throw ShapeError("concat: needs at least one argument; got none");
  if (xs.size() == 1) return xs[0];
  Attrs a;
  a.i[0] = dim;
  return xs[0].graph().add(OpId::Concat, xs.data(), uint32_t(xs.size()), a);
}

Expr slice(const Expr& x, int dim, int64_t begin, int64_t end) {
  Attrs a;
  a.i[0] = dim, a.i[1] = begin, a.i[2] = end;
  return x.graph().add(OpId::Slice, {x}, a);
}

Expr concat_batch(const std::vector<Expr>& xs) {
  if (xs.empty()) throw ShapeError("concat_batch: needs at least one argument; got none");
  if (xs.size() == 1) return xs[0];
  return xs[0].graph().add(OpId::ConcatBatch, xs.data(), uint32_t(xs.size()));
}

Expr slice_batch(const Expr& x, int64_t begin, int64_t end) {
  if (begin == 0 && end == x.shape().batch()) return x;
  Attrs a;
  a.i[0] = begin, a.i[1] = end;
  return x.graph().add(OpId::SliceBatch, {x}, a);
}

Expr pick_batch(const Expr& x, int64_t item) { return slice_batch(x, item, item + 1); }

Expr concat(std::initializer_list<Expr> xs, int dim) {
  if (xs.size() == 0) throw ShapeError("concat: needs at least one argument; got none");
  if (xs.size() == 1) return *xs.begin();
  Attrs a;
  a.i[0] = dim;
  return xs.begin()->graph().add(OpId::Concat, xs.begin(), uint32_t(xs.size()), a);
}

std::vector<Expr> split(const Expr& x, int dim, const std::vector<int64_t>& sizes) {
  int d = x.shape().axis(dim, "split");
  int64_t total = 0;
  for (int64_t s : sizes) total += s;
  if (total != x.shape().dim(d))
    throw ShapeError("split: sizes add up to " + std::to_string(total) + " but dim " +
                     std::to_string(d) + " of " + x.shape().str() + " is " + std::to_string(x.shape().dim(d)));
  std::vector<Expr> out;
  int64_t at = 0;
  for (int64_t s : sizes) {
    out.push_back(slice(x, d, at, at + s));
    at += s;
  }
  return out;
}

Expr pick(const Expr& x, int32_t idx, int dim) { return pick(x, std::vector<int32_t>{idx}, dim); }

Expr pick(const Expr& x, const std::vector<int32_t>& idx, int dim) {
  if (idx.empty()) throw ShapeError("pick: needs at least one index; got none for " + x.shape().str());
  Attrs a = ops::with_indices(x.graph(), idx.data(), idx.size());
  a.i[0] = dim;
  return x.graph().add(OpId::Pick, {x}, a);
}

Expr lookup(const Expr& table, int32_t id) { return lookup(table, std::vector<int32_t>{id}); }

Expr lookup(const Expr& table, const std::vector<int32_t>& ids) {
  Attrs a = ops::with_indices(table.graph(), ids.data(), ids.size());
  return table.graph().add(OpId::Lookup, {table}, a);
}

Expr lookup(Graph& g, Parameter& table, int32_t id) { return lookup(g.param(table), id); }
Expr lookup(Graph& g, Parameter& table, const std::vector<int32_t>& ids) { return lookup(g.param(table), ids); }

}  // namespace flare
