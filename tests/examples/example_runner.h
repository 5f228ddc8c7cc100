#pragma once
// Runs an example program (built into <build>/examples/<name>) as a child process and reads the
// one JSON line it prints last, for the examples' end-to-end tests.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "flare/io/datasets.h"
#include "io/io_test_util.h"

namespace flare::examples::testing {

struct RunResult {
  int exit_code = -1;
  std::string out, err;
  /// The last line of stdout parsed as JSON (null when it is not JSON).
  nlohmann::json summary;
};

inline std::string example_binary(const std::string& name) {
  return std::string(FLARE_BINARY_DIR) + "/examples/" + name;
}

inline std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline std::string shell_quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

/// Runs `name args...`, capturing stdout and stderr in `dir`.
inline RunResult run_example(const io::testing::TempDir& dir, const std::string& name,
                             const std::vector<std::string>& args) {
  static int counter = 0;
  const std::string tag = std::to_string(counter++);
  const std::string out = dir.file("stdout" + tag), err = dir.file("stderr" + tag);
  std::string cmd = shell_quote(example_binary(name));
  for (const std::string& a : args) cmd += " " + shell_quote(a);
  cmd += " >" + shell_quote(out) + " 2>" + shell_quote(err);
  const int status = std::system(cmd.c_str());
  RunResult r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = read_all(out);
  r.err = read_all(err);
  std::string last;
  std::istringstream lines(r.out);
  for (std::string line; std::getline(lines, line);)
    if (!line.empty()) last = line;
  r.summary = nlohmann::json::parse(last, nullptr, /*allow_exceptions=*/false);
  return r;
}

/// A description of a failed run for assertion messages.
inline std::string describe(const RunResult& r) {
  return "exit code " + std::to_string(r.exit_code) + "\n--- stdout:\n" + r.out + "\n--- stderr (tail):\n" +
         (r.err.size() > 3000 ? r.err.substr(r.err.size() - 3000) : r.err);
}

/// The first n non-blank lines of `from`, written to `to` (a small evaluation file).
inline void write_head(const std::string& from, const std::string& to, size_t n) {
  std::ifstream in(from);
  std::ofstream out(to);
  std::string line;
  for (size_t k = 0; k < n && std::getline(in, line);)
    if (line.find_first_not_of(" \t\r") != std::string::npos) {
      out << line << "\n";
      ++k;
    }
}

}  // namespace flare::examples::testing

/// Skips the test unless the example `name` is built and the data file `relative` exists;
/// leaves the data directory in `out_dir`.
#define FLARE_REQUIRE_EXAMPLE(name, relative, out_dir)                                               \
  do {                                                                                                \
    if (!std::filesystem::exists(::flare::examples::testing::example_binary(name)))                   \
      GTEST_SKIP() << "example " << (name) << " not built (cmake --build <build> --target " << (name) \
                   << ")";                                                                            \
    if (std::string(relative).empty()) break;                                                         \
    if (!::flare::io::find_data(relative))                                                            \
      GTEST_SKIP() << "data not found: " << (relative) << " under " << ::flare::io::data_dir()        \
                   << " (set FLARE_DATA)";                                                            \
    out_dir = std::filesystem::absolute(::flare::io::data_dir()).string();                            \
  } while (0)
