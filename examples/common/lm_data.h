#pragma once
// Data for the language-model examples: time-major mini-batches with a mask, built from
// sentences (rnnlm: one sentence per line, padded to the batch's longest) or from a stream of
// characters cut into equal windows (charlm).
#include <cstdint>
#include <string>
#include <vector>

#include "flare/io/vocab.h"

namespace flare::examples {

/// B sequences of T steps, time-major: inputs[t][b] predicts targets[t][b]. mask[t][b] is 1 for
/// a real target and 0 for padding (empty when every target is real).
struct LMBatch {
  std::vector<std::vector<int32_t>> inputs;
  std::vector<std::vector<int32_t>> targets;
  std::vector<std::vector<float>> mask;
  int64_t sequences = 0;
  int64_t real_targets = 0;
};

// ---- Words (rnnlm) ----

constexpr const char* kBos = "<s>";
constexpr const char* kEos = "</s>";

/// `<s>`, `</s>`, then every word of `sentences` in first-seen order, after `<unk>` (id 0).
io::Vocabulary word_lm_vocab(const std::vector<std::vector<std::string>>& sentences);

/// Sentences sorted by length (stable) and cut into groups of `batch_size` consecutive ones;
/// input `<s> w1 .. wn`, targets `w1 .. wn </s>`, shorter sentences padded at the end (masked).
std::vector<LMBatch> sentence_batches(const std::vector<std::vector<std::string>>& sentences,
                                      const io::Vocabulary& vocab, int64_t batch_size);

// ---- Characters (charlm) ----

/// The characters of a UTF-8 text file, each as its bytes, '\n' ending every line (a final line
/// without one gets one; "\r\n" counts as "\n"). Throws IoError `path:LINE: invalid UTF-8 at byte
/// N` for a malformed line, or `path: ...` when it cannot be read or holds no characters.
std::vector<std::string> read_chars(const std::string& path);

/// The blocks the held-out rule works on: characters are cut into consecutive blocks of this
/// many, and block i is held out when i % 10 == 9 (flare::io::split_heldout), so about a tenth
/// of the text, spread evenly through it, is never trained on.
constexpr int64_t kCharBlock = 2000;

struct CharSplit {
  std::vector<std::string> train, heldout;
};
CharSplit split_chars(const std::vector<std::string>& chars);

/// The characters of `train` in first-seen order after `<unk>` (id 0).
io::Vocabulary char_vocab(const std::vector<std::string>& train);

/// Windows of seq_len + 1 consecutive ids, each sharing its first id with the previous window's
/// last, grouped `batch_size` consecutive windows per batch (the last group may be smaller).
/// With keep_tail, the ids left after the last full window make one more (shorter) batch, so
/// every id but the first is a target exactly once (evaluation); without, they are dropped.
std::vector<LMBatch> window_batches(const std::vector<int32_t>& ids, int64_t seq_len, int64_t batch_size,
                                    bool keep_tail);

}  // namespace flare::examples
