#include "io/text_util.h"

#include <cerrno>
#include <cstring>
#include <limits>

#include "flare/error.h"

namespace flare::io::detail {
namespace {
bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f' || c == '\n';
}
}  // namespace

std::vector<std::string> split_ws(std::string_view s) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && is_space(s[i])) ++i;
    size_t j = i;
    while (j < s.size() && !is_space(s[j])) ++j;
    if (j > i) out.emplace_back(s.substr(i, j - i));
    i = j;
  }
  return out;
}

bool is_blank(std::string_view s) {
  for (char c : s)
    if (!is_space(c)) return false;
  return true;
}

std::string_view trim(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && is_space(s[b])) ++b;
  while (e > b && is_space(s[e - 1])) --e;
  return s.substr(b, e - b);
}

std::string quote(std::string_view s, size_t max) {
  if (s.size() <= max) return "'" + std::string(s) + "'";
  return "'" + std::string(s.substr(0, max)) + "...'";
}

void fail_at(const std::string& name, int64_t line, const std::string& what) {
  throw IoError(name + ":" + std::to_string(line) + ": " + what);
}

void fail_at(const std::string& name, int64_t line, int64_t col, const std::string& what) {
  throw IoError(name + ":" + std::to_string(line) + ":" + std::to_string(col) + ": " + what);
}

std::ifstream open_input(const std::string& path, bool binary) {
  std::ifstream in(path, binary ? std::ios::in | std::ios::binary : std::ios::in);
  if (!in) throw IoError(path + ": cannot open for reading: " + std::strerror(errno));
  return in;
}

bool parse_non_negative_int(std::string_view s, int* out) {
  if (s.empty()) return false;
  int64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
    if (v > std::numeric_limits<int>::max()) return false;
  }
  *out = static_cast<int>(v);
  return true;
}

}  // namespace flare::io::detail
