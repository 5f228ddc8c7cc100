#include "flare/io/vocab.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <numeric>

#include "flare/error.h"
#include "io/text_util.h"

namespace flare::io {

Vocabulary::Vocabulary(std::string unk) : unk_(std::move(unk)) {
  if (unk_.empty()) throw Error("Vocabulary: the unknown token must not be empty");
  words_.push_back(unk_);
  counts_.push_back(0);
  index_.emplace(unk_, 0);
}

Vocabulary Vocabulary::without_unk() {
  Vocabulary v;
  v.words_.clear();
  v.counts_.clear();
  v.index_.clear();
  v.unk_.clear();
  v.has_unk_ = false;
  return v;
}

Vocabulary Vocabulary::build(const std::vector<std::vector<std::string>>& sentences,
                             int64_t min_count, bool with_unk) {
  if (min_count < 1)
    throw Error("Vocabulary::build: min_count must be >= 1, got " + std::to_string(min_count));
  if (!with_unk && min_count > 1)
    throw Error("Vocabulary::build: min_count " + std::to_string(min_count) +
                " would drop entries but there is no unknown token to map them to");
  // Count in order of first appearance so ties break deterministically.
  Vocabulary all = without_unk();
  for (const auto& s : sentences)
    for (const auto& w : s) all.add(w);

  std::vector<int32_t> order(all.words_.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](int32_t a, int32_t b) { return all.counts_[a] > all.counts_[b]; });

  Vocabulary v = with_unk ? Vocabulary() : without_unk();
  for (int32_t i : order) {
    if (all.counts_[i] >= min_count && !(with_unk && all.words_[i] == v.unk_)) {
      v.add(all.words_[i], all.counts_[i]);
    } else {
      // Dropped entries (and literal occurrences of the unknown token) count as unknown.
      v.counts_[0] += all.counts_[i];
    }
  }
  v.freeze();
  return v;
}

Vocabulary Vocabulary::build_from_tokens(const std::vector<std::string>& tokens, int64_t min_count,
                                         bool with_unk) {
  return build(std::vector<std::vector<std::string>>{tokens}, min_count, with_unk);
}

int32_t Vocabulary::add(const std::string& word, int64_t n) {
  if (word.empty()) throw Error("Vocabulary::add: empty entry");
  if (frozen_) return id(word);
  auto it = index_.find(word);
  if (it != index_.end()) {
    counts_[it->second] += n;
    return it->second;
  }
  const auto i = static_cast<int32_t>(words_.size());
  words_.push_back(word);
  counts_.push_back(n);
  index_.emplace(word, i);
  return i;
}

int32_t Vocabulary::id(const std::string& word) const {
  auto it = index_.find(word);
  if (it != index_.end()) return it->second;
  if (has_unk_) return 0;
  throw IndexError("Vocabulary::id: " + detail::quote(word) +
                   " is not in the vocabulary, which has no unknown token (" +
                   std::to_string(size()) + " entries)");
}

std::vector<int32_t> Vocabulary::ids(const std::vector<std::string>& words) const {
  std::vector<int32_t> out;
  out.reserve(words.size());
  for (const auto& w : words) out.push_back(id(w));
  return out;
}

const std::string& Vocabulary::word(int32_t i) const {
  if (i < 0 || i >= size())
    throw IndexError("Vocabulary::word: id " + std::to_string(i) + " out of range [0, " +
                     std::to_string(size()) + ")");
  return words_[i];
}

int64_t Vocabulary::count(int32_t i) const {
  word(i);  // range check
  return counts_[i];
}

int32_t Vocabulary::unk_id() const {
  if (!has_unk_) throw Error("Vocabulary::unk_id: this vocabulary has no unknown token");
  return 0;
}

void Vocabulary::save(const std::string& path) const {
  for (const auto& w : words_)
    if (w.find_first_of("\n\r") != std::string::npos)
      throw IoError(path + ": cannot save entry " + detail::quote(w) +
                    ": it contains a line break, which the one-per-line format cannot hold");
  std::ofstream out(path);
  if (!out) throw IoError(path + ": cannot open for writing: " + std::strerror(errno));
  for (const auto& w : words_) out << w << '\n';
  out.flush();
  if (!out) throw IoError(path + ": write failed");
}

Vocabulary Vocabulary::load(const std::string& path, const std::string& unk) {
  auto in = detail::open_input(path);
  Vocabulary v = without_unk();
  detail::for_each_line(in, [&](const std::string& line, int64_t n) {
    if (line.empty()) detail::fail_at(path, n, "empty line (one entry per line expected)");
    if (n == 1 && line == unk) {
      v.unk_ = unk;
      v.has_unk_ = true;
    }
    if (v.contains(line)) detail::fail_at(path, n, "repeated entry " + detail::quote(line));
    v.add(line, 0);
  });
  if (in.bad()) throw IoError(path + ": read failed");
  v.freeze();
  return v;
}

}  // namespace flare::io
