#pragma once
/// Vocabulary: a two-way mapping between strings (words, tags, characters) and dense int32 ids,
/// with a count per entry and an optional unknown token that unseen words map to.
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

namespace flare::io {

class Vocabulary {
 public:
  static constexpr const char* kDefaultUnk = "<unk>";

  /// An empty, unfrozen vocabulary whose id 0 is the unknown token `unk` (count 0).
  explicit Vocabulary(std::string unk = kDefaultUnk);
  /// An empty vocabulary without an unknown token (for closed sets such as tags): looking up
  /// an unseen entry throws IndexError instead of returning an unknown id.
  static Vocabulary without_unk();

  /// Builds a frozen vocabulary from tokenised sentences. Entries seen at least `min_count`
  /// times are kept, most frequent first (ties in order of first appearance), after the
  /// unknown token; the unknown token's count is the number of dropped occurrences.
  /// With `with_unk` false, min_count must be 1 (nothing may be dropped).
  static Vocabulary build(const std::vector<std::vector<std::string>>& sentences,
                          int64_t min_count = 1, bool with_unk = true);
  /// The same from one flat token list.
  static Vocabulary build_from_tokens(const std::vector<std::string>& tokens, int64_t min_count = 1,
                                      bool with_unk = true);

  /// Unfrozen: adds `word` (or adds `n` to its count) and returns its id.
  /// Frozen: changes nothing and returns id(word), so one reading loop serves training data
  /// (before freeze) and held-out data (after). Throws flare::Error for an empty word.
  int32_t add(const std::string& word, int64_t n = 1);
  /// The id of `word`; an unseen word gives unk_id(), or IndexError without an unknown token.
  int32_t id(const std::string& word) const;
  /// Ids of every word in `words` (see id()).
  std::vector<int32_t> ids(const std::vector<std::string>& words) const;
  bool contains(const std::string& word) const { return index_.count(word) != 0; }

  /// The entry with id `i`; throws IndexError when i is outside [0, size()).
  const std::string& word(int32_t i) const;
  /// Occurrences counted by add()/build(); 0 for a loaded vocabulary.
  int64_t count(int32_t i) const;

  int32_t size() const { return static_cast<int32_t>(words_.size()); }
  bool has_unk() const { return has_unk_; }
  /// 0 when has_unk(); throws flare::Error otherwise.
  int32_t unk_id() const;
  const std::string& unk_token() const { return unk_; }

  /// After freeze(), add() no longer grows the vocabulary.
  void freeze() { frozen_ = true; }
  bool frozen() const { return frozen_; }

  /// Writes one entry per line in id order (the unknown token first when present). Entries may
  /// hold spaces (SST has the token "8 1\/2"). Throws IoError naming the path when it cannot be
  /// written or an entry contains a line break.
  void save(const std::string& path) const;
  /// Reads a file written by save(): line i, verbatim (less a trailing '\r'), holds the entry
  /// with id i - 1. The vocabulary has an
  /// unknown token exactly when the first line equals `unk`. The result is frozen with counts 0.
  /// Throws IoError `path:LINE: ...` on an empty line or a repeated entry.
  static Vocabulary load(const std::string& path, const std::string& unk = kDefaultUnk);

 private:
  std::vector<std::string> words_;
  std::vector<int64_t> counts_;
  std::unordered_map<std::string, int32_t> index_;
  std::string unk_;
  bool has_unk_ = true;
  bool frozen_ = false;
};

}  // namespace flare::io
