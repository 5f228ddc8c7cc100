#include "flare/io/datasets.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <sstream>

#include "io/io_test_util.h"

namespace flare::io {
namespace {

using testing::TempDir;
using testing::write_file;

TEST(Labelled, ParsesLabelAndWords) {
  const auto s = parse_labelled("3 ||| The Rock is  great .\n\n0|||bad\r\n");
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s[0].label, 3);
  EXPECT_EQ(s[0].words, (std::vector<std::string>{"The", "Rock", "is", "great", "."}));
  EXPECT_EQ(s[1].label, 0);
  EXPECT_EQ(s[1].words, (std::vector<std::string>{"bad"}));
}

TEST(Labelled, MalformedLinesNameFileAndLine) {
  EXPECT_IO_ERROR(parse_labelled("1 ||| a\n2 a b\n", "c.txt"), "c.txt:2: missing '|||'");
  EXPECT_IO_ERROR(parse_labelled("1 ||| a\n\nx ||| a b\n", "c.txt"),
                  "c.txt:3: label 'x' is not a non-negative integer");
  EXPECT_IO_ERROR(parse_labelled("-1 ||| a\n", "c.txt"), "c.txt:1: label '-1'");
  EXPECT_IO_ERROR(parse_labelled(" ||| a\n", "c.txt"), "c.txt:1: missing label");
  EXPECT_IO_ERROR(parse_labelled("1 2 ||| a\n", "c.txt"), "c.txt:1: label '1 2'");
  EXPECT_IO_ERROR(parse_labelled("99999999999 ||| a\n", "c.txt"), "c.txt:1: label");
  EXPECT_IO_ERROR(parse_labelled("1 ||| a\n4 |||   \n", "c.txt"), "c.txt:2: no words after '|||'");
}

TEST(Labelled, ReadsFilesAndNamesThem) {
  TempDir dir;
  write_file(dir.file("l.txt"), "2 ||| x y\n1 ||| \n");
  EXPECT_IO_ERROR(read_labelled(dir.file("l.txt")), dir.file("l.txt") + ":2: no words");
  write_file(dir.file("ok.txt"), "2 ||| x y\n1 ||| z");
  const auto s = read_labelled(dir.file("ok.txt"));
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s[1].words, (std::vector<std::string>{"z"}));
  EXPECT_IO_ERROR(read_labelled(dir.file("none.txt")), "none.txt: cannot open for reading");
}

TEST(Tagged, SplitsOnTheLastBar) {
  std::istringstream in("010|I-MISC is|O a|b|O\n\n|||O .|O\n");
  const auto s = parse_tagged(in);
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s[0].words, (std::vector<std::string>{"010", "is", "a|b"}));
  EXPECT_EQ(s[0].tags, (std::vector<std::string>{"I-MISC", "O", "O"}));
  EXPECT_EQ(s[1].words, (std::vector<std::string>{"||", "."}));
  EXPECT_EQ(s[1].tags, (std::vector<std::string>{"O", "O"}));
}

TEST(Tagged, MalformedTokensNameFileAndLine) {
  EXPECT_IO_ERROR(parse_tagged("a|O\nb|O c\n", "t.txt"), "t.txt:2: token 2 'c' has no '|TAG'");
  EXPECT_IO_ERROR(parse_tagged("a|\n", "t.txt"), "t.txt:1: token 1 'a|' has an empty tag");
  EXPECT_IO_ERROR(parse_tagged("x|O |O\n", "t.txt"), "t.txt:1: token 2 '|O' has an empty word");
}

TEST(Text, SkipsEmptyLines) {
  const auto s = parse_text(" a b  c \n\n   \nd\n");
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s[0], (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(s[1], (std::vector<std::string>{"d"}));
}

TEST(SplitHeldout, EveryTenthItemIsHeldOut) {
  std::vector<int> items(25);
  for (int i = 0; i < 25; ++i) items[i] = i;
  const auto s = split_heldout(items, 10);
  EXPECT_EQ(s.heldout, (std::vector<int>{9, 19}));
  ASSERT_EQ(s.train.size(), 23u);
  EXPECT_EQ(s.train[8], 8);
  EXPECT_EQ(s.train[9], 10);
  EXPECT_EQ(s.train.back(), 24);
  EXPECT_EQ(split_heldout(items, 1).heldout.size(), 25u);
  EXPECT_THROW(split_heldout(items, 0), Error);
}

TEST(DataDir, HonoursFlareDataAndFindData) {
  TempDir dir;
  write_file(dir.file("present.txt"), "x");
  const char* old = std::getenv("FLARE_DATA");
  const std::string saved = old ? old : "";
  ::setenv("FLARE_DATA", dir.path().c_str(), 1);
  EXPECT_EQ(data_dir(), dir.path().string());
  EXPECT_EQ(find_data("present.txt"), dir.file("present.txt"));
  EXPECT_FALSE(find_data("absent.txt").has_value());
  if (old) {
    ::setenv("FLARE_DATA", saved.c_str(), 1);
  } else {
    ::unsetenv("FLARE_DATA");
  }
}

}  // namespace
}  // namespace flare::io
