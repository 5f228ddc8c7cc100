// parse_text on arbitrary bytes. Every input is valid text; the round trip (tokens joined by
// one space, sentences by newlines) must give the same sentences, none of them empty.
#include <string>
#include <vector>

#include "flare/io/datasets.h"
#include "fuzz_util.h"

using flare::fuzz::accepted;
using flare::fuzz::check;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const char* target = "fuzz_text";
  const std::string text(reinterpret_cast<const char*>(data), size);
  std::vector<std::vector<std::string>> first;
  if (!accepted(target, [&] { first = flare::io::parse_text(text, flare::fuzz::kInputName); }))
    return 0;
  std::string out;
  for (const auto& s : first) {
    check(!s.empty(), target, "an empty sentence");
    for (size_t i = 0; i < s.size(); ++i) {
      check(!s[i].empty(), target, "an empty token");
      out += (i ? " " : "") + s[i];
    }
    out += "\n";
  }
  std::vector<std::vector<std::string>> second;
  if (!accepted(target, [&] { second = flare::io::parse_text(out, flare::fuzz::kInputName); }))
    flare::fuzz::finding(target, "round trip: the written form was rejected");
  check(second == first, target, "sentences changed");
  return 0;
}
