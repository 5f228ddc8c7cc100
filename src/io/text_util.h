#pragma once
// Helpers shared by flare's line-oriented readers (not part of the public API).
#include <cstdint>
#include <fstream>
#include <istream>
#include <string>
#include <string_view>
#include <vector>

namespace flare::io::detail {

/// Splits on runs of spaces, tabs, '\r', '\v' and '\f'; never yields an empty token.
std::vector<std::string> split_ws(std::string_view s);
bool is_blank(std::string_view s);
std::string_view trim(std::string_view s);

/// `s` in single quotes, shortened to about `max` characters, for error messages.
std::string quote(std::string_view s, size_t max = 40);

/// Throws IoError "name:line: what".
[[noreturn]] void fail_at(const std::string& name, int64_t line, const std::string& what);
/// Throws IoError "name:line:col: what".
[[noreturn]] void fail_at(const std::string& name, int64_t line, int64_t col,
                          const std::string& what);

/// Opens `path` for reading; throws IoError naming the path and the OS's reason.
std::ifstream open_input(const std::string& path, bool binary = false);

/// Calls f(line, number) for every line (numbered from 1) with a trailing '\r' removed, so
/// files written on Windows read the same.
template <typename F>
void for_each_line(std::istream& in, F&& f) {
  std::string line;
  int64_t number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    f(line, number);
  }
}

/// Parses a non-negative decimal integer that fits in an int; false on anything else.
bool parse_non_negative_int(std::string_view s, int* out);

}  // namespace flare::io::detail
