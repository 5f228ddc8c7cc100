#pragma once
// Small text helpers the examples share: vocabularies in first-seen order (as the benchmarks
// build them), UTF-8 characters, and line numbers for error messages.
#include <cstdint>
#include <string>
#include <vector>

#include "flare/io/vocab.h"

namespace flare::examples {

/// A frozen vocabulary of every token of `sentences` in first-seen order, after `specials`
/// (given ids 0.. in order, after the unknown token when `with_unk`).
io::Vocabulary first_seen_vocab(const std::vector<std::vector<std::string>>& sentences, bool with_unk = true,
                                const std::vector<std::string>& specials = {});

/// The characters (Unicode code points, each as its UTF-8 bytes) of `s`. Throws flare::Error
/// "invalid UTF-8 at byte N" (N from 1) for a malformed sequence.
std::vector<std::string> utf8_chars(const std::string& s);

/// The 1-based line number of the k-th (0-based) non-blank line of the file at `path`, as the
/// io readers count items; 0 when the file has fewer. For error messages after parsing.
int64_t nonblank_line(const std::string& path, size_t k);

/// The index of the largest of `scores` (the first on ties).
int32_t argmax(const std::vector<double>& scores);

}  // namespace flare::examples
