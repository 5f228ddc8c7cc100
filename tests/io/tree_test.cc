#include "flare/io/tree.h"

#include <gtest/gtest.h>

#include <sstream>

#include "io/io_test_util.h"

namespace flare::io {
namespace {

TEST(Tree, ParsesLabelsWordsAndStructure) {
  Tree t = parse_tree("(3 (2 It) (4 (2 's) (3 (1 fun))))");
  EXPECT_EQ(t.label, 3);
  ASSERT_EQ(t.children.size(), 2u);
  EXPECT_TRUE(t.children[0].is_leaf());
  EXPECT_EQ(t.children[0].word, "It");
  EXPECT_EQ(t.children[0].label, 2);
  const Tree& right = t.children[1];
  EXPECT_EQ(right.label, 4);
  ASSERT_EQ(right.children.size(), 2u);
  // (3 (1 fun)) is a unary node over a leaf.
  ASSERT_EQ(right.children[1].children.size(), 1u);
  EXPECT_EQ(right.children[1].label, 3);
  EXPECT_EQ(right.children[1].children[0].word, "fun");
  EXPECT_EQ(right.children[1].children[0].label, 1);

  EXPECT_EQ(t.leaves(), (std::vector<std::string>{"It", "'s", "fun"}));
  EXPECT_EQ(t.size(), 6);
  std::vector<int> labels;
  for (const Tree* n : t.post_order()) labels.push_back(n->label);
  EXPECT_EQ(labels, (std::vector<int>{2, 2, 1, 3, 4, 3}));
  EXPECT_EQ(t.post_order().back(), &t);
}

TEST(Tree, StrRoundTripsAndToleratesExtraSpace) {
  const std::string text = "(3 (2 It) (4 (2 's) (3 (1 fun))))";
  EXPECT_EQ(parse_tree(text).str(), text);
  EXPECT_EQ(parse_tree("  ( 3  (2 It )\t(1 x))  ").str(), "(3 (2 It) (1 x))");
  EXPECT_EQ(parse_tree("(0 word)").str(), "(0 word)");
  // Only ASCII whitespace separates: a no-break space (U+00A0) stays inside the word.
  const Tree leaf = parse_tree("(2 (2 8\u00a01\\/2) (2 .))");
  EXPECT_EQ(leaf.leaves(), (std::vector<std::string>{"8\u00a01\\/2", "."}));
}

TEST(Tree, ErrorsNameLineAndColumn) {
  EXPECT_IO_ERROR(parse_tree("(3 (2 a) (2 b)", "t.txt", 7),
                  "t.txt:7:1: unbalanced parentheses: '(' is never closed");
  EXPECT_IO_ERROR(parse_tree("(3 (2 a) (2 b)))", "t.txt", 2), "t.txt:2:16: trailing junk");
  EXPECT_IO_ERROR(parse_tree("(3 (2 a) (2 b)) x", "t.txt"), "t.txt:1:17: trailing junk");
  EXPECT_IO_ERROR(parse_tree("(3 (a) (2 b))", "t.txt"), "t.txt:1:5: label 'a' is not");
  EXPECT_IO_ERROR(parse_tree("(3 ((2 a)) (2 b))", "t.txt"), "t.txt:1:5: missing label");
  EXPECT_IO_ERROR(parse_tree("(-1 a)", "t.txt"), "label '-1' is not a non-negative integer");
  EXPECT_IO_ERROR(parse_tree("(3)", "t.txt"), "t.txt:1:3: node has a label but no word");
  EXPECT_IO_ERROR(parse_tree("()", "t.txt"), "t.txt:1:2: missing label");
  EXPECT_IO_ERROR(parse_tree(")", "t.txt"), "t.txt:1:1: unbalanced parentheses: unexpected ')'");
  EXPECT_IO_ERROR(parse_tree("word", "t.txt"), "t.txt:1:1: expected '('");
  EXPECT_IO_ERROR(parse_tree("", "t.txt"), "t.txt:1:1: empty input");
  EXPECT_IO_ERROR(parse_tree("(2 a b)", "t.txt"), "t.txt:1:6: expected ')' after the word 'a'");
  EXPECT_IO_ERROR(parse_tree("(2 a (1 b))", "t.txt"), "t.txt:1:6: expected ')' after the word 'a'");
  EXPECT_IO_ERROR(parse_tree("(2 (1 a) b)", "t.txt"), "t.txt:1:10: expected '(' or ')'");
  EXPECT_IO_ERROR(parse_tree("(2 (1 a) (1 b) (1 c))", "t.txt"),
                  "t.txt:1:16: node has more than two children");
}

TEST(Tree, DeepNestingIsAnErrorNotACrash) {
  std::string deep;
  for (int i = 0; i < 100000; ++i) deep += "(1 ";
  deep += "x";
  deep += std::string(100000, ')');
  EXPECT_IO_ERROR(parse_tree(deep, "deep.txt"), "nested deeper than 1000");
  std::string ok;
  for (int i = 0; i < 999; ++i) ok += "(1 ";
  ok += "(2 x)" + std::string(999, ')');
  EXPECT_EQ(parse_tree(ok).size(), 1000);
}

TEST(Tree, ParseTreesCountsLinesIncludingBlankOnes) {
  const auto trees = parse_trees("(1 a)\n\n(2 (1 b) (3 c))\r\n", "x.txt");
  ASSERT_EQ(trees.size(), 2u);
  EXPECT_EQ(trees[1].leaves(), (std::vector<std::string>{"b", "c"}));
  std::istringstream in("(1 a)\n\n(2 (1 b) (3 c)\n");
  EXPECT_IO_ERROR(parse_trees(in, "x.txt"), "x.txt:3:1: unbalanced");
  EXPECT_IO_ERROR(read_trees("/nonexistent/trees.txt"), "/nonexistent/trees.txt: cannot open");
}

}  // namespace
}  // namespace flare::io
