// Reads the real shared data sets when they are present (see flare::io::data_dir()).
#include <gtest/gtest.h>

#include "flare/io/datasets.h"
#include "flare/io/vocab.h"

namespace flare::io {
namespace {

#define REQUIRE_DATA(var, rel)                                       \
  const auto var = find_data(rel);                                   \
  if (!var)                                                          \
  GTEST_SKIP() << "data file " rel " not found under " << data_dir() \
               << " (set FLARE_DATA to the data directory)"

TEST(DataFiles, SentimentClasses) {
  REQUIRE_DATA(path, "classes/train.txt");
  const auto s = read_labelled(*path);
  EXPECT_EQ(s.size(), 8544u);
  EXPECT_EQ(s[0].label, 3);
  EXPECT_EQ(s[0].words.front(), "The");
  for (const auto& x : s) ASSERT_LE(x.label, 4);
}

TEST(DataFiles, SentimentTreesMatchClasses) {
  REQUIRE_DATA(trees_path, "trees/train.txt");
  REQUIRE_DATA(classes_path, "classes/train.txt");
  const auto trees = read_trees(*trees_path);
  const auto classes = read_labelled(*classes_path);
  ASSERT_EQ(trees.size(), 8544u);
  EXPECT_EQ(trees[0].label, 3);
  EXPECT_EQ(trees[0].leaves().front(), "The");
  EXPECT_EQ(trees[0].leaves().back(), ".");
  // The class file holds the trees' root labels and leaves, line for line.
  ASSERT_EQ(classes.size(), trees.size());
  for (size_t i = 0; i < trees.size(); ++i) {
    ASSERT_EQ(trees[i].label, classes[i].label) << "line " << i + 1;
    ASSERT_EQ(trees[i].leaves(), classes[i].words) << "line " << i + 1;
    // A binary tree over n leaves without unary chains has 2n - 1 nodes.
    ASSERT_GE(trees[i].size(), int64_t(2 * trees[i].leaves().size() - 1));
  }
  // Line 4342's film title "8 1/2" is written with a no-break space: one word, not two.
  ASSERT_GE(trees[4341].leaves().size(), 10u);
  EXPECT_EQ(trees[4341].leaves()[9], "8\u00a01\\/2");
}

TEST(DataFiles, TaggedSentences) {
  REQUIRE_DATA(path, "tags/dev.txt");
  const auto s = read_tagged(*path);
  EXPECT_EQ(s.size(), 1696u);
  EXPECT_EQ(s[0].words.front(), "010");
  EXPECT_EQ(s[0].tags.front(), "I-MISC");
  Vocabulary tags = Vocabulary::without_unk();
  for (const auto& x : s) {
    ASSERT_EQ(x.words.size(), x.tags.size());
    for (const auto& t : x.tags) tags.add(t);
  }
  EXPECT_TRUE(tags.contains("O"));
  EXPECT_TRUE(tags.contains("I-PER"));
  const auto split = split_heldout(s, 10);
  EXPECT_EQ(split.heldout.size(), 169u);
  EXPECT_EQ(split.train.size(), 1527u);
}

TEST(DataFiles, LanguageModelText) {
  REQUIRE_DATA(path, "text/dev.txt");
  const auto s = read_text(*path);
  EXPECT_EQ(s.size(), 3370u);
  EXPECT_EQ(s[0].front(), "consumers");
  const Vocabulary v = Vocabulary::build(s);
  EXPECT_EQ(v.id("<unk>"), 0);
  EXPECT_GT(v.count(0), 0);  // PTB text has literal <unk> tokens
  EXPECT_LE(v.size(), 10001);
}

}  // namespace
}  // namespace flare::io
