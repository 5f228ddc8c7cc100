#pragma once
/// Readers for the text data sets flare's examples use, a fixed train/held-out split rule, and
/// where to find the data.
///
/// Every reader comes as read_X(path) and parse_X(stream or text, name). Lines are numbered
/// from 1; blank lines are skipped (but counted); a trailing '\r' is ignored. A malformed line
/// throws IoError `name:LINE: what is wrong`.
#include <cstdint>
#include <istream>
#include <optional>
#include <string>
#include <vector>

#include "flare/error.h"
#include "flare/io/tree.h"

namespace flare::io {

/// One line `label ||| tok tok tok` (e.g. SST five-class sentiment).
struct LabelledSentence {
  int label = 0;
  std::vector<std::string> words;
};

/// Label: a non-negative integer before the first `|||`; words: the whitespace-separated
/// tokens after it (at least one).
std::vector<LabelledSentence> parse_labelled(std::istream& in,
                                             const std::string& name = "<stream>");
std::vector<LabelledSentence> parse_labelled(const std::string& text,
                                             const std::string& name = "<string>");
std::vector<LabelledSentence> read_labelled(const std::string& path);

/// One line `word|TAG word|TAG ...` (e.g. WikiNER); words.size() == tags.size().
struct TaggedSentence {
  std::vector<std::string> words;
  std::vector<std::string> tags;
};

/// Each token splits at its LAST '|', so words may contain '|'. A token without '|', or with an
/// empty word or tag, is an error.
std::vector<TaggedSentence> parse_tagged(std::istream& in, const std::string& name = "<stream>");
std::vector<TaggedSentence> parse_tagged(const std::string& text,
                                         const std::string& name = "<string>");
std::vector<TaggedSentence> read_tagged(const std::string& path);

/// Plain text, one sentence per line, whitespace-separated tokens (e.g. PTB language-model data).
std::vector<std::vector<std::string>> parse_text(std::istream& in,
                                                 const std::string& name = "<stream>");
std::vector<std::vector<std::string>> parse_text(const std::string& text,
                                                 const std::string& name = "<string>");
std::vector<std::vector<std::string>> read_text(const std::string& path);

/// A train/held-out pair produced by split_heldout().
template <typename T>
struct Split {
  std::vector<T> train;
  std::vector<T> heldout;
};

/// The fixed split the examples and benchmarks share: item i goes to held-out when
/// i % every == every - 1 (so every 10th item with every = 10: indices 9, 19, ...), else to
/// train; order is kept. Deterministic, so results are comparable between runs and programs.
template <typename T>
Split<T> split_heldout(const std::vector<T>& items, int every = 10) {
  if (every < 1) throw Error("split_heldout: every must be >= 1, got " + std::to_string(every));
  Split<T> s;
  s.heldout.reserve(items.size() / every + 1);
  s.train.reserve(items.size() - items.size() / every);
  for (size_t i = 0; i < items.size(); ++i)
    (i % every == size_t(every - 1) ? s.heldout : s.train).push_back(items[i]);
  return s;
}

/// The data directory: $FLARE_DATA when set and non-empty (used as is); otherwise the first
/// existing directory among `../shared/data` relative to the working directory and
/// `../shared/data` relative to the source tree's root; otherwise `../shared/data`.
std::string data_dir();
/// data_dir() + "/" + relative when that file or directory exists; nullopt otherwise, so a test
/// can `GTEST_SKIP() << "data not found"`.
std::optional<std::string> find_data(const std::string& relative);

}  // namespace flare::io
