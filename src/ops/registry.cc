#include "ops/registry.h"

#include <sstream>

namespace flare::ops {
namespace {

struct Table {
  OpDef defs[kOpCount];
  Table() {
    register_leaf(defs);
    register_arith(defs);
    register_unary(defs);
    register_linalg(defs);
    register_shape_ops(defs);
    register_reduce(defs);
    register_softmax_loss(defs);
    register_random(defs);
    register_conv(defs);
    register_recurrent(defs);
  }
};

const char* const kNames[] = {
#define FLARE_OP(E, N) N,
#include "flare/ops.def"
#undef FLARE_OP
};

// The name of argument i from an op's comma-separated list; variadic tails number their
// repeats (affine: b, W1, x1, W2, x2, ...; concat: x0, x1, ...).
std::string arg_name(const OpDef& d, int i) {
  std::vector<std::string> names;
  std::stringstream ss(d.arg_names);
  std::string item;
  while (std::getline(ss, item, ',')) names.push_back(item);
  if (names.empty()) return "x" + std::to_string(i);
  bool variadic = !names.back().empty() && names.back().back() == '*';
  if (!variadic) return i < int(names.size()) ? names[i] : "x" + std::to_string(i);
  names.back().pop_back();
  // The variadic group is the trailing names with '*' stripped; '+' separates a group of them.
  std::vector<std::string> group;
  std::stringstream gs(names.back());
  while (std::getline(gs, item, '+')) group.push_back(item);
  int fixed = int(names.size()) - 1;
  if (i < fixed) return names[i];
  int k = i - fixed;
  int first = group.size() > 1 ? 1 : 0;  // affine numbers from 1, concat from 0
  return group[k % group.size()] + std::to_string(k / int(group.size()) + first);
}

}  // namespace

const OpDef& def(OpId op) {
  static const Table table;
  return table.defs[int(op)];
}

void ShapeArgs::fail(const std::string& why) const {
  const OpDef& d = def(op);
  std::string msg = std::string(op_name(op)) + ": " + why + "; got";
  for (int i = 0; i < nargs; ++i) msg += " " + arg_name(d, i) + "=" + s(i).str();
  throw ShapeError(msg);
}

int64_t ShapeArgs::common_batch() const {
  int64_t b = 1;
  for (int i = 0; i < nargs; ++i) {
    int64_t bi = s(i).batch();
    if (bi == 1) continue;
    if (b != 1 && bi != b) fail("batch sizes differ (" + std::to_string(b) + " vs " + std::to_string(bi) + ")");
    b = bi;
  }
  return b;
}

Shape broadcast_shape(const ShapeArgs& sa, int ia, int ib) {
  const Shape& a = sa.s(ia);
  const Shape& b = sa.s(ib);
  int64_t batch = sa.common_batch();
  if (a.same_dims(b) || b.size() == 1) return a.with_batch(batch);
  if (a.size() == 1) return b.with_batch(batch);
  sa.fail("shapes " + a.str() + " and " + b.str() + " differ (only the batch and one-element operands broadcast)");
}

Bcast make_bcast(const Shape& a, const Shape& b, const Shape& y) {
  Bcast bc;
  bc.batch = y.batch();
  bc.n = y.size();
  bc.a_es = a.size() == 1 && y.size() != 1 ? 0 : 1;
  bc.b_es = b.size() == 1 && y.size() != 1 ? 0 : 1;
  bc.a_bs = a.batch() == 1 ? 0 : a.size();
  bc.b_bs = b.batch() == 1 ? 0 : b.size();
  return bc;
}

}  // namespace flare::ops

namespace flare {
const char* op_name(OpId op) { return ops::kNames[int(op)]; }
}  // namespace flare
