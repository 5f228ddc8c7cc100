#include "common/text.h"

#include <fstream>

#include "flare/error.h"

namespace flare::examples {

io::Vocabulary first_seen_vocab(const std::vector<std::vector<std::string>>& sentences, bool with_unk,
                                const std::vector<std::string>& specials) {
  io::Vocabulary v = with_unk ? io::Vocabulary() : io::Vocabulary::without_unk();
  for (const std::string& s : specials) v.add(s, 0);
  for (const auto& sentence : sentences)
    for (const std::string& w : sentence) v.add(w);
  v.freeze();
  return v;
}

std::vector<std::string> utf8_chars(const std::string& s) {
  std::vector<std::string> out;
  out.reserve(s.size());
  size_t i = 0;
  while (i < s.size()) {
    const auto b = static_cast<unsigned char>(s[i]);
    // Sequence length from the lead byte; overlong and surrogate forms are rejected.
    size_t len = b < 0x80 ? 1 : (b >> 5) == 0x6 ? 2 : (b >> 4) == 0xE ? 3 : (b >> 3) == 0x1E ? 4 : 0;
    bool ok = len > 0 && i + len <= s.size();
    uint32_t cp = len == 1 ? b : len == 2 ? (b & 0x1F) : len == 3 ? (b & 0x0F) : (b & 0x07);
    for (size_t k = 1; ok && k < len; ++k) {
      const auto c = static_cast<unsigned char>(s[i + k]);
      ok = (c >> 6) == 0x2;
      cp = (cp << 6) | (c & 0x3F);
    }
    if (ok) {
      const uint32_t min_cp[5] = {0, 0, 0x80, 0x800, 0x10000};
      ok = cp >= min_cp[len] && cp <= 0x10FFFF && !(cp >= 0xD800 && cp <= 0xDFFF);
    }
    if (!ok) throw Error("invalid UTF-8 at byte " + std::to_string(i + 1));
    out.push_back(s.substr(i, len));
    i += len;
  }
  return out;
}

int64_t nonblank_line(const std::string& path, size_t k) {
  std::ifstream in(path);
  std::string line;
  int64_t n = 0;
  size_t seen = 0;
  while (std::getline(in, line)) {
    ++n;
    if (line.find_first_not_of(" \t\r\n\f\v") == std::string::npos) continue;
    if (seen++ == k) return n;
  }
  return 0;
}

int32_t argmax(const std::vector<double>& scores) {
  int32_t best = 0;
  for (size_t k = 1; k < scores.size(); ++k)
    if (scores[k] > scores[size_t(best)]) best = int32_t(k);
  return best;
}

}  // namespace flare::examples
