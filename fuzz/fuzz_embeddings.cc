// parse_embeddings (GloVe or word2vec text) on arbitrary bytes, under three option sets.
// Accepted input must give finite vectors of shape [vocab, dim]; with default options it must
// survive a round trip: every row written back in GloVe form (values with 9 significant digits,
// which float32 needs to read back exactly) reads as the same vocabulary and the same bits.
#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>

#include "flare/io/embeddings.h"
#include "fuzz_util.h"

using flare::fuzz::accepted;
using flare::fuzz::check;
using flare::io::Embeddings;
using flare::io::EmbeddingOptions;

namespace {
const char* kTarget = "fuzz_embeddings";

void check_table(const Embeddings& e) {
  const flare::Shape& s = e.vectors.shape();
  check(s.nd() == 2 && s.dim(0) == e.vocab.size() && s.dim(1) >= 1, kTarget,
        "vectors' shape " + s.str() + " does not fit the vocabulary");
  check(e.found >= 0 && e.found <= e.vocab.size(), kTarget, "found out of range");
  const float* v = e.vectors.data<float>();
  for (int64_t i = 0; i < s.total(); ++i) check(std::isfinite(v[i]), kTarget, "a non-finite value");
}

void round_trip(const Embeddings& e) {
  const int64_t dim = e.vectors.shape().dim(1);
  const float* v = e.vectors.data<float>();
  std::string out;
  char buf[32];
  for (int32_t i = 0; i < e.vocab.size(); ++i) {
    out += e.vocab.word(i);
    for (int64_t j = 0; j < dim; ++j) {
      std::snprintf(buf, sizeof buf, " %.9g", double(v[i * dim + j]));
      out += buf;
    }
    out += '\n';
  }
  Embeddings again;
  if (!accepted(kTarget, [&] { again = flare::io::parse_embeddings(out, flare::fuzz::kInputName); }))
    flare::fuzz::finding(kTarget, "round trip: the written form was rejected");
  check(again.format == flare::io::EmbeddingFormat::glove, kTarget, "written form not read as GloVe");
  check(again.vocab.size() == e.vocab.size(), kTarget, "vocabulary size changed");
  for (int32_t i = 0; i < e.vocab.size(); ++i)
    check(again.vocab.word(i) == e.vocab.word(i), kTarget, "word " + std::to_string(i) + " changed");
  check(again.vectors.shape() == e.vectors.shape(), kTarget, "shape changed");
  check(std::memcmp(again.vectors.data(), e.vectors.data(), e.vectors.bytes()) == 0, kTarget,
        "values changed");
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  Embeddings e;
  if (accepted(kTarget, [&] { e = flare::io::parse_embeddings(text, flare::fuzz::kInputName); })) {
    check_table(e);
    check(e.vocab.frozen() && e.vocab.has_unk(), kTarget, "vocabulary not frozen or without unk");
    round_trip(e);
  }

  EmbeddingOptions mean;
  mean.unknown = EmbeddingOptions::Unknown::mean;
  mean.normalize = true;
  if (accepted(kTarget, [&] { e = flare::io::parse_embeddings(text, flare::fuzz::kInputName, mean); })) {
    check_table(e);
    const int64_t dim = e.vectors.shape().dim(1);
    const float* v = e.vectors.data<float>();
    for (int64_t i = 0; i < e.vocab.size(); ++i) {
      double ss = 0;
      for (int64_t j = 0; j < dim; ++j) ss += double(v[i * dim + j]) * v[i * dim + j];
      check(ss == 0 || std::fabs(ss - 1) < 1e-4, kTarget,
            "normalised row " + std::to_string(i) + " has squared norm " + std::to_string(ss));
    }
  }

  flare::io::Vocabulary fixed;
  for (const char* w : {"the", "a", "1", "|"}) fixed.add(w);
  EmbeddingOptions restricted;
  restricted.restrict_to = &fixed;
  if (accepted(kTarget, [&] { e = flare::io::parse_embeddings(text, flare::fuzz::kInputName, restricted); })) {
    check_table(e);
    check(e.vocab.size() == fixed.size(), kTarget, "restricted vocabulary changed size");
    for (int32_t i = 0; i < fixed.size(); ++i)
      check(e.vocab.word(i) == fixed.word(i), kTarget, "restricted vocabulary changed order");
  }
  return 0;
}
