// parse_trees on arbitrary bytes. Accepted trees must be well formed (binary or unary inner
// nodes, one word per leaf), agree with their own traversals, and survive str() -> parse_tree().
#include <string>
#include <vector>

#include "flare/io/tree.h"
#include "fuzz_util.h"

using flare::fuzz::accepted;
using flare::fuzz::check;
using flare::io::Tree;

namespace {
const char* kTarget = "fuzz_trees";

bool same(const Tree& a, const Tree& b) {
  if (a.label != b.label || a.word != b.word || a.children.size() != b.children.size()) return false;
  for (size_t i = 0; i < a.children.size(); ++i)
    if (!same(a.children[i], b.children[i])) return false;
  return true;
}

int64_t check_shape(const Tree& t, int depth) {
  check(depth <= flare::io::kMaxTreeDepth, kTarget, "a tree deeper than kMaxTreeDepth");
  check(t.label >= 0, kTarget, "negative label");
  if (t.is_leaf()) {
    check(!t.word.empty(), kTarget, "a leaf without a word");
    return 1;
  }
  check(t.word.empty() && t.children.size() <= 2, kTarget, "an inner node with a word or 3+ children");
  int64_t leaves = 0;
  for (const Tree& c : t.children) leaves += check_shape(c, depth + 1);
  return leaves;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  std::vector<Tree> trees;
  if (!accepted(kTarget, [&] { trees = flare::io::parse_trees(text, flare::fuzz::kInputName); }))
    return 0;
  for (const Tree& t : trees) {
    const int64_t leaves = check_shape(t, 1);
    check(int64_t(t.leaves().size()) == leaves, kTarget, "leaves() disagrees with the tree");
    const auto order = t.post_order();
    check(int64_t(order.size()) == t.size() && order.back() == &t, kTarget,
          "post_order() disagrees with size() or does not end at the root");
    Tree again;
    const std::string s = t.str();
    if (!accepted(kTarget, [&] { again = flare::io::parse_tree(s, flare::fuzz::kInputName); }))
      flare::fuzz::finding(kTarget, "round trip: str() was rejected: " + s);
    check(same(t, again), kTarget, "str() reads back as another tree: " + s);
  }
  return 0;
}
