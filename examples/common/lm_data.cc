#include "common/lm_data.h"

#include <algorithm>
#include <fstream>

#include "common/text.h"
#include "flare/error.h"
#include "flare/io/datasets.h"

namespace flare::examples {

io::Vocabulary word_lm_vocab(const std::vector<std::vector<std::string>>& sentences) {
  return first_seen_vocab(sentences, /*with_unk=*/true, {kBos, kEos});
}

std::vector<LMBatch> sentence_batches(const std::vector<std::vector<std::string>>& sentences,
                                      const io::Vocabulary& vocab, int64_t batch_size) {
  if (batch_size < 1) throw Error("sentence_batches: the batch size must be >= 1, got " + std::to_string(batch_size));
  std::vector<size_t> order(sentences.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return sentences[a].size() < sentences[b].size(); });
  const int32_t bos = vocab.id(kBos), eos = vocab.id(kEos);
  std::vector<LMBatch> out;
  for (size_t k = 0; k < order.size(); k += size_t(batch_size)) {
    const size_t n = std::min(order.size() - k, size_t(batch_size));
    size_t longest = 0;
    for (size_t j = 0; j < n; ++j) longest = std::max(longest, sentences[order[k + j]].size());
    const size_t steps = longest + 1;
    LMBatch b;
    b.sequences = int64_t(n);
    b.inputs.assign(steps, std::vector<int32_t>(n, eos));
    b.targets.assign(steps, std::vector<int32_t>(n, eos));
    b.mask.assign(steps, std::vector<float>(n, 0.f));
    bool padded = false;
    for (size_t j = 0; j < n; ++j) {
      const std::vector<int32_t> ids = vocab.ids(sentences[order[k + j]]);
      for (size_t t = 0; t < steps; ++t) {
        b.inputs[t][j] = t == 0 ? bos : t <= ids.size() ? ids[t - 1] : eos;
        // Padding targets are any valid id; the mask takes them out of the loss.
        b.targets[t][j] = t < ids.size() ? ids[t] : eos;
        b.mask[t][j] = t <= ids.size() ? 1.f : 0.f;
        padded |= t > ids.size();
      }
      b.real_targets += int64_t(ids.size()) + 1;
    }
    if (!padded) b.mask.clear();
    out.push_back(std::move(b));
  }
  return out;
}

std::vector<std::string> read_chars(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw IoError(path + ": cannot open for reading");
  std::vector<std::string> chars;
  std::string line;
  int64_t n = 0;
  while (std::getline(in, line)) {
    ++n;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    try {
      for (std::string& c : utf8_chars(line)) chars.push_back(std::move(c));
    } catch (const Error& e) {
      throw IoError(path + ":" + std::to_string(n) + ": " + e.what());
    }
    chars.push_back("\n");
  }
  if (in.bad()) throw IoError(path + ": read failed");
  if (chars.empty()) throw IoError(path + ": no text");
  return chars;
}

CharSplit split_chars(const std::vector<std::string>& chars) {
  std::vector<size_t> blocks;
  for (size_t i = 0; i < chars.size(); i += size_t(kCharBlock)) blocks.push_back(i);
  const io::Split<size_t> s = io::split_heldout(blocks, 10);
  CharSplit out;
  auto append = [&](std::vector<std::string>& to, size_t begin) {
    const size_t end = std::min(chars.size(), begin + size_t(kCharBlock));
    to.insert(to.end(), chars.begin() + long(begin), chars.begin() + long(end));
  };
  for (size_t b : s.train) append(out.train, b);
  for (size_t b : s.heldout) append(out.heldout, b);
  return out;
}

io::Vocabulary char_vocab(const std::vector<std::string>& train) { return first_seen_vocab({train}); }

std::vector<LMBatch> window_batches(const std::vector<int32_t>& ids, int64_t seq_len, int64_t batch_size,
                                    bool keep_tail) {
  if (seq_len < 1 || batch_size < 1)
    throw Error("window_batches: seq_len and batch_size must be >= 1, got " + std::to_string(seq_len) + " and " +
                std::to_string(batch_size));
  const size_t L = size_t(seq_len);
  std::vector<size_t> starts;  // windows [start, start + L]
  size_t s = 0;
  while (s + L < ids.size()) {
    starts.push_back(s);
    s += L;
  }
  auto make = [&](size_t first, size_t count, size_t steps) {
    LMBatch b;
    b.sequences = int64_t(count);
    b.inputs.assign(steps, std::vector<int32_t>(count));
    b.targets.assign(steps, std::vector<int32_t>(count));
    for (size_t j = 0; j < count; ++j)
      for (size_t t = 0; t < steps; ++t) {
        b.inputs[t][j] = ids[starts[first + j] + t];
        b.targets[t][j] = ids[starts[first + j] + t + 1];
      }
    b.real_targets = int64_t(count * steps);
    return b;
  };
  std::vector<LMBatch> out;
  for (size_t k = 0; k < starts.size(); k += size_t(batch_size))
    out.push_back(make(k, std::min(starts.size() - k, size_t(batch_size)), L));
  if (keep_tail && s + 1 < ids.size()) {
    starts.push_back(s);
    out.push_back(make(starts.size() - 1, 1, ids.size() - 1 - s));
  }
  return out;
}

}  // namespace flare::examples
