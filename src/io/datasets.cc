#include "flare/io/datasets.h"

#include <sstream>

#include "io/text_util.h"

namespace flare::io {
namespace {

// Runs parse_line over every non-blank line of `in`, collecting the results.
template <typename T, typename F>
std::vector<T> parse_lines(std::istream& in, const std::string& name, F parse_line) {
  std::vector<T> out;
  detail::for_each_line(in, [&](const std::string& line, int64_t n) {
    if (!detail::is_blank(line)) out.push_back(parse_line(line, n));
  });
  if (in.bad()) throw IoError(name + ": read failed");
  return out;
}

LabelledSentence labelled_line(const std::string& line, const std::string& name, int64_t n) {
  const size_t sep = line.find("|||");
  if (sep == std::string::npos)
    detail::fail_at(name, n, "missing '|||' between label and words in " + detail::quote(line));
  LabelledSentence s;
  const std::string_view label = detail::trim(std::string_view(line).substr(0, sep));
  if (label.empty()) detail::fail_at(name, n, "missing label before '|||'");
  if (!detail::parse_non_negative_int(label, &s.label))
    detail::fail_at(name, n, "label " + detail::quote(label) + " is not a non-negative integer");
  s.words = detail::split_ws(std::string_view(line).substr(sep + 3));
  if (s.words.empty()) detail::fail_at(name, n, "no words after '|||'");
  return s;
}

TaggedSentence tagged_line(const std::string& line, const std::string& name, int64_t n) {
  TaggedSentence s;
  for (auto& tok : detail::split_ws(line)) {
    const size_t bar = tok.rfind('|');
    const std::string where =
        "token " + std::to_string(s.words.size() + 1) + " " + detail::quote(tok);
    if (bar == std::string::npos) detail::fail_at(name, n, where + " has no '|TAG'");
    if (bar == 0) detail::fail_at(name, n, where + " has an empty word");
    if (bar + 1 == tok.size()) detail::fail_at(name, n, where + " has an empty tag");
    s.tags.push_back(tok.substr(bar + 1));
    tok.resize(bar);
    s.words.push_back(std::move(tok));
  }
  return s;
}

}  // namespace

std::vector<LabelledSentence> parse_labelled(std::istream& in, const std::string& name) {
  return parse_lines<LabelledSentence>(
      in, name, [&](const std::string& l, int64_t n) { return labelled_line(l, name, n); });
}
std::vector<LabelledSentence> parse_labelled(const std::string& text, const std::string& name) {
  std::istringstream in(text);
  return parse_labelled(in, name);
}
std::vector<LabelledSentence> read_labelled(const std::string& path) {
  auto in = detail::open_input(path);
  return parse_labelled(in, path);
}

std::vector<TaggedSentence> parse_tagged(std::istream& in, const std::string& name) {
  return parse_lines<TaggedSentence>(
      in, name, [&](const std::string& l, int64_t n) { return tagged_line(l, name, n); });
}
std::vector<TaggedSentence> parse_tagged(const std::string& text, const std::string& name) {
  std::istringstream in(text);
  return parse_tagged(in, name);
}
std::vector<TaggedSentence> read_tagged(const std::string& path) {
  auto in = detail::open_input(path);
  return parse_tagged(in, path);
}

std::vector<std::vector<std::string>> parse_text(std::istream& in, const std::string& name) {
  return parse_lines<std::vector<std::string>>(
      in, name, [](const std::string& l, int64_t) { return detail::split_ws(l); });
}
std::vector<std::vector<std::string>> parse_text(const std::string& text, const std::string& name) {
  std::istringstream in(text);
  return parse_text(in, name);
}
std::vector<std::vector<std::string>> read_text(const std::string& path) {
  auto in = detail::open_input(path);
  return parse_text(in, path);
}

}  // namespace flare::io
