#pragma once
// The op registry: everything about an op in one entry (shape rule, forward, accumulating
// backward, batching metadata). Family files (arith.cc, unary.cc, ...) fill the table; the
// graph engines (eager, static plans, the auto-batcher) only ever go through it.
#include <string>

#include "flare/backend.h"
#include "flare/error.h"
#include "flare/graph.h"

namespace flare::ops {

/// What the shape rule sees: the op, its argument nodes and attributes.
struct ShapeArgs {
  OpId op;
  Node* const* args;
  int nargs;
  const Attrs& attrs;
  DType dtype;

  const Shape& s(int i) const { return args[i]->shape; }
  /// Throws ShapeError "op: why; got a=[..] b=[..]x8" naming every input shape.
  [[noreturn]] void fail(const std::string& why) const;
  /// Every argument has one batch size or batch 1; returns the common batch size, else fails.
  int64_t common_batch() const;
};

/// What forward and backward see. Gradient pointers are null for arguments that need none.
struct Ctx {
  Backend& be;
  Graph* g;  // for scratch memory and random numbers; null only in engines that provide neither
  Node& y;
  Node* const* args;
  int nargs;

  DType t() const { return y.dtype; }
  const Node& arg(int i) const { return *args[i]; }
  const Shape& xs(int i) const { return args[i]->shape; }
  const void* x(int i) const { return args[i]->value; }
  void* dx(int i) const { return args[i]->needs_grad ? args[i]->grad : nullptr; }
  void* out() const { return y.value; }
  const void* dy() const { return y.grad; }
  int64_t n() const { return y.shape.total(); }
};

/// How the auto-batcher may merge nodes of this op across examples.
enum class BatchKind : uint8_t {
  None,         // runs alone
  Elementwise,  // same op and attributes: concatenate every argument, run once
  SharedFirst,  // argument 0 shared by identity (a weight), the rest stacked (matmul W*x)
  Affine,       // b and every W shared by identity, x's stacked
  Lookup,       // same parameter: one gather over all ids
  PerExample,   // op works per batch item: stack along the batch dimension
};

struct OpDef {
  const char* name = nullptr;
  const char* arg_names = "";  // comma-separated; a trailing '*' marks a variadic tail
  int min_args = 0, max_args = 0;  // max -1: any number
  Shape (*shape)(const ShapeArgs&) = nullptr;
  void (*forward)(const Ctx&) = nullptr;
  void (*backward)(const Ctx&) = nullptr;  // null: no gradient flows through the op
  BatchKind batching = BatchKind::None;
};

/// The entry of an op; every op in ops.def has one (a test checks).
const OpDef& def(OpId op);

// Family registration functions, each defined in its family file.
void register_leaf(OpDef* table);
void register_arith(OpDef* table);
void register_unary(OpDef* table);
void register_linalg(OpDef* table);
void register_shape_ops(OpDef* table);
void register_reduce(OpDef* table);
void register_softmax_loss(OpDef* table);
void register_random(OpDef* table);
void register_conv(OpDef* table);
void register_recurrent(OpDef* table);

/// Element-wise broadcasting plan for a binary op over shapes a and b (same shape, batch 1
/// against batch B, or one-element against anything). Fails through `sa` otherwise.
Shape broadcast_shape(const ShapeArgs& sa, int ia, int ib);
Bcast make_bcast(const Shape& a, const Shape& b, const Shape& y);

}  // namespace flare::ops
