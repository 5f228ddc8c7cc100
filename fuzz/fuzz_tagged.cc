// parse_tagged on arbitrary bytes. Accepted input must survive a round trip: writing each
// sentence back as `word|TAG ...` and reading it again gives the same words and tags.
#include <string>
#include <vector>

#include "flare/io/datasets.h"
#include "fuzz_util.h"

using flare::fuzz::accepted;
using flare::fuzz::check;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const char* target = "fuzz_tagged";
  const std::string text(reinterpret_cast<const char*>(data), size);
  std::vector<flare::io::TaggedSentence> first;
  if (!accepted(target, [&] { first = flare::io::parse_tagged(text, flare::fuzz::kInputName); }))
    return 0;
  std::string out;
  for (const auto& s : first) {
    check(s.words.size() == s.tags.size(), target, "words and tags differ in number");
    check(!s.words.empty(), target, "an empty sentence");
    for (size_t i = 0; i < s.words.size(); ++i) {
      check(!s.words[i].empty() && !s.tags[i].empty(), target, "an empty word or tag");
      check(s.tags[i].find('|') == std::string::npos, target, "a tag holds '|'");
      out += (i ? " " : "") + s.words[i] + "|" + s.tags[i];
    }
    out += "\n";
  }
  std::vector<flare::io::TaggedSentence> second;
  if (!accepted(target, [&] { second = flare::io::parse_tagged(out, flare::fuzz::kInputName); }))
    flare::fuzz::finding(target, "round trip: the written form was rejected");
  check(second.size() == first.size(), target, "sentence count changed");
  for (size_t i = 0; i < first.size(); ++i) {
    check(second[i].words == first[i].words, target, "words changed");
    check(second[i].tags == first[i].tags, target, "tags changed");
  }
  return 0;
}
