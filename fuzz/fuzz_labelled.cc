// parse_labelled on arbitrary bytes. Accepted input must survive a round trip: writing each
// sentence back as `label ||| w1 w2 ...` and reading it again gives the same sentences.
#include <string>
#include <vector>

#include "flare/io/datasets.h"
#include "fuzz_util.h"

using flare::fuzz::accepted;
using flare::fuzz::check;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const char* target = "fuzz_labelled";
  const std::string text(reinterpret_cast<const char*>(data), size);
  std::vector<flare::io::LabelledSentence> first;
  if (!accepted(target, [&] { first = flare::io::parse_labelled(text, flare::fuzz::kInputName); }))
    return 0;
  std::string out;
  for (const auto& s : first) {
    check(s.label >= 0, target, "negative label");
    check(!s.words.empty(), target, "a sentence without words");
    out += std::to_string(s.label) + " |||";
    for (const auto& w : s.words) out += " " + w;
    out += "\n";
  }
  std::vector<flare::io::LabelledSentence> second;
  if (!accepted(target, [&] { second = flare::io::parse_labelled(out, flare::fuzz::kInputName); }))
    flare::fuzz::finding(target, "round trip: the written form was rejected");
  check(second.size() == first.size(), target, "sentence count changed");
  for (size_t i = 0; i < first.size(); ++i) {
    check(second[i].label == first[i].label, target, "label changed");
    check(second[i].words == first[i].words, target, "words changed");
  }
  return 0;
}
