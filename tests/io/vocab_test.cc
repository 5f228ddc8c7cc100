#include "flare/io/vocab.h"

#include <gtest/gtest.h>

#include "io/io_test_util.h"

namespace flare::io {
namespace {

using testing::TempDir;
using testing::write_file;

TEST(Vocabulary, UnknownTokenIsIdZero) {
  Vocabulary v;
  EXPECT_EQ(v.size(), 1);
  EXPECT_TRUE(v.has_unk());
  EXPECT_EQ(v.unk_id(), 0);
  EXPECT_EQ(v.word(0), "<unk>");
  EXPECT_EQ(v.id("never seen"), 0);
}

TEST(Vocabulary, AddCountsAndAssignsDenseIds) {
  Vocabulary v;
  EXPECT_EQ(v.add("a"), 1);
  EXPECT_EQ(v.add("b"), 2);
  EXPECT_EQ(v.add("a"), 1);
  EXPECT_EQ(v.add("c", 5), 3);
  EXPECT_EQ(v.size(), 4);
  EXPECT_EQ(v.count(1), 2);
  EXPECT_EQ(v.count(2), 1);
  EXPECT_EQ(v.count(3), 5);
  EXPECT_EQ(v.word(2), "b");
  EXPECT_EQ(v.ids({"c", "a", "zzz"}), (std::vector<int32_t>{3, 1, 0}));
}

TEST(Vocabulary, FrozenAddReturnsUnkAndDoesNotGrow) {
  Vocabulary v;
  v.add("a");
  v.freeze();
  EXPECT_TRUE(v.frozen());
  EXPECT_EQ(v.add("b"), 0);
  EXPECT_EQ(v.add("a"), 1);
  EXPECT_EQ(v.size(), 2);
  EXPECT_EQ(v.count(1), 1);  // frozen add does not count
  EXPECT_FALSE(v.contains("b"));
}

TEST(Vocabulary, WithoutUnkThrowsOnUnseen) {
  Vocabulary tags = Vocabulary::without_unk();
  EXPECT_EQ(tags.add("O"), 0);
  EXPECT_EQ(tags.add("I-PER"), 1);
  EXPECT_FALSE(tags.has_unk());
  EXPECT_THROW(tags.id("I-LOC"), IndexError);
  EXPECT_THROW(tags.unk_id(), Error);
  tags.freeze();
  EXPECT_THROW(tags.add("I-LOC"), IndexError);
}

TEST(Vocabulary, BadIdsAndWordsThrow) {
  Vocabulary v;
  EXPECT_THROW(v.word(1), IndexError);
  EXPECT_THROW(v.word(-1), IndexError);
  EXPECT_THROW(v.count(7), IndexError);
  EXPECT_THROW(v.add(""), Error);
}

TEST(Vocabulary, BuildSortsByCountAndAppliesMinCount) {
  // counts: the 3, cat 2, sat 1, on 1, mat 2, <unk> 1 (literal unknown tokens map to id 0).
  std::vector<std::vector<std::string>> s = {
      {"the", "cat", "sat"}, {"on", "the", "mat", "<unk>"}, {"the", "cat", "mat"}};
  Vocabulary v = Vocabulary::build(s, 2);
  EXPECT_TRUE(v.frozen());
  ASSERT_EQ(v.size(), 4);
  EXPECT_EQ(v.word(0), "<unk>");
  EXPECT_EQ(v.word(1), "the");
  EXPECT_EQ(v.word(2), "cat");  // ties keep first appearance: cat before mat
  EXPECT_EQ(v.word(3), "mat");
  EXPECT_EQ(v.count(1), 3);
  EXPECT_EQ(v.count(0), 3);  // sat + on + the literal <unk>
  EXPECT_EQ(v.id("sat"), 0);

  Vocabulary all = Vocabulary::build_from_tokens({"x", "y", "x"});
  ASSERT_EQ(all.size(), 3);
  EXPECT_EQ(all.word(1), "x");
  EXPECT_EQ(all.count(0), 0);

  Vocabulary tags = Vocabulary::build_from_tokens({"O", "B", "O"}, 1, false);
  EXPECT_EQ(tags.size(), 2);
  EXPECT_EQ(tags.id("O"), 0);
  EXPECT_THROW(Vocabulary::build(s, 2, false), Error);
  EXPECT_THROW(Vocabulary::build(s, 0), Error);
}

TEST(Vocabulary, SaveLoadRoundTrip) {
  TempDir dir;
  Vocabulary v;
  for (const char* w : {"b", "a", "c|x", "ünï", "8 1\\/2"}) v.add(w);
  v.save(dir.file("v.txt"));
  Vocabulary w = Vocabulary::load(dir.file("v.txt"));
  EXPECT_TRUE(w.frozen());
  EXPECT_TRUE(w.has_unk());
  ASSERT_EQ(w.size(), v.size());
  for (int32_t i = 0; i < v.size(); ++i) EXPECT_EQ(w.word(i), v.word(i));
  EXPECT_EQ(w.id("c|x"), 3);
  EXPECT_EQ(w.id("8 1\\/2"), 5);
  EXPECT_EQ(w.id("nope"), 0);

  Vocabulary tags = Vocabulary::without_unk();
  tags.add("O");
  tags.add("I-PER");
  tags.save(dir.file("t.txt"));
  Vocabulary t = Vocabulary::load(dir.file("t.txt"));
  EXPECT_FALSE(t.has_unk());
  EXPECT_EQ(t.id("I-PER"), 1);
}

TEST(Vocabulary, LoadErrorsNameFileAndLine) {
  TempDir dir;
  write_file(dir.file("dup.txt"), "<unk>\na\nb\na\n");
  EXPECT_IO_ERROR(Vocabulary::load(dir.file("dup.txt")), "dup.txt:4: repeated entry 'a'");
  write_file(dir.file("empty.txt"), "<unk>\na\n\nb\n");
  EXPECT_IO_ERROR(Vocabulary::load(dir.file("empty.txt")), "empty.txt:3: empty line");
  EXPECT_IO_ERROR(Vocabulary::load(dir.file("missing.txt")), "missing.txt: cannot open");
}

TEST(Vocabulary, SaveRejectsLineBreaks) {
  TempDir dir;
  Vocabulary v;
  v.add("two\nlines");
  EXPECT_IO_ERROR(v.save(dir.file("v.txt")), "line break");
}

}  // namespace
}  // namespace flare::io
