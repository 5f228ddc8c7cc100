#pragma once
/// Labelled constituency trees in the bracketed PTB style of the Stanford Sentiment Treebank:
/// `(3 (2 It) (4 (2 's) (3 fun)))`. Every node has an integer label; a leaf holds one word and
/// an inner node one or two subtrees. Words are split on ASCII whitespace only: SST's leaf
/// "8\u00a01\/2" (a no-break space inside) is one word, as in the `label ||| words` files.
#include <cstdint>
#include <istream>
#include <string>
#include <vector>

namespace flare::io {

struct Tree {
  int label = 0;
  /// The word of a leaf; empty for inner nodes.
  std::string word;
  /// Empty for a leaf; one (unary) or two (binary) subtrees otherwise.
  std::vector<Tree> children;

  bool is_leaf() const { return children.empty(); }
  /// The words at the leaves, left to right.
  std::vector<std::string> leaves() const;
  /// Every node, children before their parent, left before right; the root is last.
  std::vector<const Tree*> post_order() const;
  /// Number of nodes (leaves included).
  int64_t size() const;
  /// The bracketed form, as parse_tree() reads it.
  std::string str() const;
};

/// Trees nested deeper than this are rejected (protects the stack from hostile input).
constexpr int kMaxTreeDepth = 1000;

/// Parses one tree from `text`. Throws IoError `name:LINE:COL: what` (LINE is `line`, COL
/// counts bytes from 1) for unbalanced parentheses, a missing or non-integer label, an empty
/// node, a node with more than two children, or anything after the closing parenthesis.
Tree parse_tree(const std::string& text, const std::string& name = "<string>", int64_t line = 1);

/// One tree per line; blank lines are skipped but still counted for error positions.
std::vector<Tree> parse_trees(std::istream& in, const std::string& name = "<stream>");
std::vector<Tree> parse_trees(const std::string& text, const std::string& name = "<string>");
/// Reads a file of trees; errors name `path`.
std::vector<Tree> read_trees(const std::string& path);

}  // namespace flare::io
