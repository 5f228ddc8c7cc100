#include "flare/io/embeddings.h"

#include <gtest/gtest.h>

#include <cmath>

#include "io/io_test_util.h"

namespace flare::io {
namespace {

using testing::TempDir;
using testing::write_file;

std::vector<double> row(const Embeddings& e, int32_t id) {
  const std::vector<double> all = e.vectors.to_vector();
  const int64_t d = e.vectors.shape().dim(1);
  return std::vector<double>(all.begin() + id * d, all.begin() + (id + 1) * d);
}

void expect_row(const Embeddings& e, const std::string& word, std::vector<double> want) {
  ASSERT_TRUE(e.vocab.contains(word)) << word;
  const auto got = row(e, e.vocab.id(word));
  ASSERT_EQ(got.size(), want.size());
  for (size_t j = 0; j < want.size(); ++j)
    EXPECT_NEAR(got[j], want[j], 1e-6) << word << "[" << j << "]";
}

const char* kGlove = "the 1 2 3\ncat -1 0.5 4e-1\n\ndog 3 0 -1\r\n";

TEST(Embeddings, ReadsGloveWithZeroUnknownRow) {
  const Embeddings e = parse_embeddings(kGlove);
  EXPECT_EQ(e.format, EmbeddingFormat::glove);
  EXPECT_EQ(e.vectors.dtype(), DType::f32);
  EXPECT_EQ(e.vectors.shape(), Shape({4, 3}));
  EXPECT_EQ(e.vocab.size(), 4);
  EXPECT_EQ(e.vocab.word(0), "<unk>");
  EXPECT_EQ(e.vocab.id("cat"), 2);
  EXPECT_EQ(e.found, 3);
  EXPECT_TRUE(e.vocab.frozen());
  expect_row(e, "<unk>", {0, 0, 0});
  expect_row(e, "cat", {-1, 0.5, 0.4});
  expect_row(e, "dog", {3, 0, -1});
}

TEST(Embeddings, MeanUnknownRowAndNormalisation) {
  EmbeddingOptions o;
  o.unknown = EmbeddingOptions::Unknown::mean;
  expect_row(parse_embeddings(kGlove, "g", o), "<unk>", {1, 2.5 / 3, 2.4 / 3});
  o.normalize = true;
  const Embeddings e = parse_embeddings(kGlove, "g", o);
  const double n = std::sqrt(1.0 + (2.5 / 3) * (2.5 / 3) + (2.4 / 3) * (2.4 / 3));
  expect_row(e, "<unk>", {1 / n, 2.5 / 3 / n, 2.4 / 3 / n});
  const double m = std::sqrt(14.0);
  expect_row(e, "the", {1 / m, 2 / m, 3 / m});
  // All-zero rows stay zero instead of becoming NaN.
  o.unknown = EmbeddingOptions::Unknown::zeros;
  expect_row(parse_embeddings(kGlove, "g", o), "<unk>", {0, 0, 0});
}

TEST(Embeddings, ReadsWord2VecText) {
  const Embeddings e = parse_embeddings("2 2\nking 0.5 1\nqueen 1 -2\n");
  EXPECT_EQ(e.format, EmbeddingFormat::word2vec);
  EXPECT_EQ(e.vectors.shape(), Shape({3, 2}));
  expect_row(e, "queen", {1, -2});
}

TEST(Embeddings, FileVectorForUnknownTokenFillsRowZeroAndDuplicatesKeepFirst) {
  const Embeddings e = parse_embeddings("a 1 1\n<unk> 7 8\na 9 9\n");
  EXPECT_EQ(e.vocab.size(), 2);
  expect_row(e, "<unk>", {7, 8});
  expect_row(e, "a", {1, 1});
  EXPECT_EQ(e.found, 2);
}

TEST(Embeddings, RestrictToVocabularyKeepsItsIds) {
  Vocabulary v;
  v.add("dog");
  v.add("zebra");
  v.add("the");
  EmbeddingOptions o;
  o.restrict_to = &v;
  o.unknown = EmbeddingOptions::Unknown::mean;
  const Embeddings e = parse_embeddings(kGlove, "g", o);
  ASSERT_EQ(e.vocab.size(), 4);
  EXPECT_EQ(e.vocab.id("dog"), 1);
  EXPECT_EQ(e.vocab.id("zebra"), 2);
  EXPECT_FALSE(e.vocab.contains("cat"));
  EXPECT_EQ(e.found, 2);
  expect_row(e, "dog", {3, 0, -1});
  expect_row(e, "the", {1, 2, 3});
  // The mean is over every vector in the file, including words not kept.
  expect_row(e, "zebra", {1, 2.5 / 3, 2.4 / 3});
  expect_row(e, "<unk>", {1, 2.5 / 3, 2.4 / 3});
}

TEST(Embeddings, MalformedLinesNameFileAndLine) {
  EXPECT_IO_ERROR(parse_embeddings("a 1 2\nb 1 2 3\n", "e.txt"),
                  "e.txt:2: expected 2 values after 'b', got 3");
  EXPECT_IO_ERROR(parse_embeddings("a 1 2\n\nb 1\n", "e.txt"), "e.txt:3: expected 2 values");
  EXPECT_IO_ERROR(parse_embeddings("a 1 2\nb 1 x2\n", "e.txt"),
                  "e.txt:2: value 2 of 'b' is not a finite number: 'x2'");
  EXPECT_IO_ERROR(parse_embeddings("a 1 nan\n", "e.txt"), "e.txt:1: value 2 of 'a'");
  EXPECT_IO_ERROR(parse_embeddings("a 1 2.5.\n", "e.txt"), "e.txt:1: value 2");
  EXPECT_IO_ERROR(parse_embeddings("a\n", "e.txt"), "e.txt:1: word 'a' has no values");
  EXPECT_IO_ERROR(parse_embeddings("2 3\na 1 2 3\nb 1 2\n", "e.txt"),
                  "e.txt:3: expected 3 values after 'b', got 2");
  EXPECT_IO_ERROR(parse_embeddings("1 2\na 1 2\nb 1 2\n", "e.txt"),
                  "e.txt:3: more vectors than the header's count 1");
  EXPECT_IO_ERROR(parse_embeddings("3 2\na 1 2\n", "e.txt"),
                  "e.txt: word2vec header promises 3 vectors but the file has 1");
  EXPECT_IO_ERROR(parse_embeddings("3 0\n", "e.txt"), "e.txt:1: word2vec header gives dimension 0");
  EXPECT_IO_ERROR(parse_embeddings("1 99999999999\n", "e.txt"), "e.txt:1: word2vec header gives");
  EXPECT_IO_ERROR(parse_embeddings("\n\n", "e.txt"), "e.txt: no word vectors");
}

TEST(Embeddings, LoadsFromFile) {
  TempDir dir;
  write_file(dir.file("g.txt"), kGlove);
  const Embeddings e = load_embeddings(dir.file("g.txt"));
  expect_row(e, "the", {1, 2, 3});
  write_file(dir.file("bad.txt"), "the 1 2 3\ncat 1 2\n");
  EXPECT_IO_ERROR(load_embeddings(dir.file("bad.txt")), dir.file("bad.txt") + ":2: expected 3");
  EXPECT_IO_ERROR(load_embeddings(dir.file("none.txt")), "none.txt: cannot open");
}

}  // namespace
}  // namespace flare::io
