// Leaves: inputs and parameters. Their values come from outside the graph (Graph::input,
// Graph::param); they have no forward and nothing to propagate backward.
#include "ops/registry.h"

namespace flare::ops {
namespace {
Shape leaf_shape(const ShapeArgs& sa) { sa.fail("leaves are created by Graph::input and Graph::param"); }
void no_forward(const Ctx&) {}
}  // namespace

void register_leaf(OpDef* t) {
  t[int(OpId::Input)] = {"input", "", 0, 0, leaf_shape, no_forward, nullptr, BatchKind::PerExample};
  t[int(OpId::Param)] = {"parameter", "", 0, 0, leaf_shape, no_forward, nullptr, BatchKind::None};
}

}  // namespace flare::ops
