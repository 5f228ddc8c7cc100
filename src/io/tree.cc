#include "flare/io/tree.h"

#include <sstream>

#include "flare/error.h"
#include "io/text_util.h"

namespace flare::io {
namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f'; }
bool is_token_char(char c) { return !is_space(c) && c != '(' && c != ')' && c != '\n'; }

// Recursive descent over one line; depth is capped so hostile input cannot exhaust the stack.
class TreeParser {
 public:
  TreeParser(const std::string& text, const std::string& name, int64_t line)
      : s_(text), name_(name), line_(line) {}

  Tree parse() {
    skip_space();
    if (pos_ >= s_.size()) fail("empty input: expected '('");
    Tree t = node(1);
    skip_space();
    if (pos_ < s_.size())
      fail("trailing junk after the tree: " + detail::quote(std::string_view(s_).substr(pos_)));
    return t;
  }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    detail::fail_at(name_, line_, int64_t(pos_) + 1, what);
  }
  [[noreturn]] void fail_at_col(size_t pos, const std::string& what) const {
    detail::fail_at(name_, line_, int64_t(pos) + 1, what);
  }
  void skip_space() {
    while (pos_ < s_.size() && is_space(s_[pos_])) ++pos_;
  }
  std::string_view token() {
    size_t b = pos_;
    while (pos_ < s_.size() && is_token_char(s_[pos_])) ++pos_;
    return std::string_view(s_).substr(b, pos_ - b);
  }

  Tree node(int depth) {
    if (depth > kMaxTreeDepth)
      fail("tree nested deeper than " + std::to_string(kMaxTreeDepth) + " levels");
    if (s_[pos_] == ')') fail("unbalanced parentheses: unexpected ')'");
    if (s_[pos_] != '(') {
      const size_t at = pos_;
      fail_at_col(at, "expected '(' but found " + detail::quote(token()));
    }
    const size_t open = pos_++;
    Tree t;
    skip_space();
    if (pos_ >= s_.size()) fail_at_col(open, "unbalanced parentheses: '(' is never closed");
    if (s_[pos_] == '(' || s_[pos_] == ')') fail("missing label after '('");
    const size_t label_pos = pos_;
    const std::string_view label = token();
    if (!detail::parse_non_negative_int(label, &t.label))
      fail_at_col(label_pos, "label " + detail::quote(label) + " is not a non-negative integer");
    skip_space();
    if (pos_ >= s_.size()) fail_at_col(open, "unbalanced parentheses: '(' is never closed");
    if (s_[pos_] == ')') fail("node has a label but no word or subtree");
    if (s_[pos_] != '(') {
      t.word = std::string(token());
      skip_space();
      if (pos_ >= s_.size()) fail_at_col(open, "unbalanced parentheses: '(' is never closed");
      if (s_[pos_] != ')') fail("expected ')' after the word " + detail::quote(t.word));
      ++pos_;
      return t;
    }
    while (true) {
      skip_space();
      if (pos_ >= s_.size()) fail_at_col(open, "unbalanced parentheses: '(' is never closed");
      if (s_[pos_] == ')') break;
      if (s_[pos_] != '(') {
        const size_t at = pos_;
        fail_at_col(at, "expected '(' or ')' but found " + detail::quote(token()));
      }
      if (t.children.size() == 2) fail("node has more than two children");
      t.children.push_back(node(depth + 1));
    }
    ++pos_;
    return t;
  }

  const std::string& s_;
  const std::string& name_;
  int64_t line_;
  size_t pos_ = 0;
};

void collect_leaves(const Tree& t, std::vector<std::string>* out) {
  if (t.is_leaf()) {
    out->push_back(t.word);
    return;
  }
  for (const auto& c : t.children) collect_leaves(c, out);
}

void collect_post_order(const Tree& t, std::vector<const Tree*>* out) {
  for (const auto& c : t.children) collect_post_order(c, out);
  out->push_back(&t);
}

void write(const Tree& t, std::string* out) {
  *out += '(';
  *out += std::to_string(t.label);
  if (t.is_leaf()) {
    *out += ' ';
    *out += t.word;
  }
  for (const auto& c : t.children) {
    *out += ' ';
    write(c, out);
  }
  *out += ')';
}

}  // namespace

std::vector<std::string> Tree::leaves() const {
  std::vector<std::string> out;
  collect_leaves(*this, &out);
  return out;
}

std::vector<const Tree*> Tree::post_order() const {
  std::vector<const Tree*> out;
  collect_post_order(*this, &out);
  return out;
}

int64_t Tree::size() const {
  int64_t n = 1;
  for (const auto& c : children) n += c.size();
  return n;
}

std::string Tree::str() const {
  std::string out;
  write(*this, &out);
  return out;
}

Tree parse_tree(const std::string& text, const std::string& name, int64_t line) {
  return TreeParser(text, name, line).parse();
}

std::vector<Tree> parse_trees(std::istream& in, const std::string& name) {
  std::vector<Tree> out;
  detail::for_each_line(in, [&](const std::string& line, int64_t n) {
    if (!detail::is_blank(line)) out.push_back(parse_tree(line, name, n));
  });
  if (in.bad()) throw IoError(name + ": read failed");
  return out;
}

std::vector<Tree> parse_trees(const std::string& text, const std::string& name) {
  std::istringstream in(text);
  return parse_trees(in, name);
}

std::vector<Tree> read_trees(const std::string& path) {
  auto in = detail::open_input(path);
  return parse_trees(in, path);
}

}  // namespace flare::io
