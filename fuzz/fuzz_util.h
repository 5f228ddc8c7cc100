#pragma once
// What every fuzz target checks: a reader either accepts its input or throws flare::IoError
// whose message starts with the input's name; anything else (another exception, a crash, a
// sanitizer report, a failed round trip) aborts, so libFuzzer keeps the input as a finding.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "flare/error.h"

namespace flare::fuzz {

/// The name every reader is given, so that error messages can be checked to name it.
inline const std::string kInputName = "fuzz-input";

[[noreturn]] inline void finding(const char* target, const std::string& what) {
  std::fprintf(stderr, "%s: %s\n", target, what.c_str());
  std::fflush(stderr);
  std::abort();
}

/// Runs `parse` (which stores its result itself); true when it accepted the input. Errors must
/// start with `name`, the name (or path) the reader was given.
template <typename F>
bool accepted(const char* target, F&& parse, const std::string& name = kInputName) {
  try {
    parse();
    return true;
  } catch (const IoError& e) {
    const std::string what = e.what();
    if (what.rfind(name, 0) != 0)
      finding(target, "IoError does not start with the input's name: " + what);
    return false;
  } catch (const Error& e) {
    finding(target, std::string("rejected with a flare::Error that is not an IoError: ") + e.what());
  }
}

inline void check(bool ok, const char* target, const std::string& what) {
  if (!ok) finding(target, "round trip: " + what);
}

}  // namespace flare::fuzz
