// The cnn example's model (examples/common/cnn_model.h): a batch of equal-length sentences
// gets exactly the scores and summed loss its sentences get one at a time, including
// sentences shorter than the widest filter (padded with zero columns), and cnn_accuracy
// (which scores by length groups) agrees with predicting one sentence at a time.
#ifdef FLARE_HAVE_EXAMPLES_COMMON

#include <gtest/gtest.h>

#include <vector>

#include "common/cnn_model.h"

namespace flare::examples::testing {
namespace {

CnnConfig small_config() {
  CnnConfig c;
  c.embed = 6;
  c.maps = 4;
  c.widths = {2, 3};
  c.embed_scale = 0.5;
  c.sparse = false;
  return c;
}

void expect_batch_matches_singles(const std::vector<std::vector<int32_t>>& ids) {
  nn::Model m;
  CnnClassifier model(m, 10, small_config());
  model.eval();  // no dropout: scores are deterministic
  Graph g;
  const std::vector<double> batched = model.scores(g, ids).to_vector();
  ASSERT_EQ(batched.size(), ids.size() * 5);
  for (size_t b = 0; b < ids.size(); ++b) {
    Graph one;
    const std::vector<double> s = model.scores(one, ids[b]).to_vector();
    for (size_t k = 0; k < 5; ++k) EXPECT_NEAR(batched[b * 5 + k], s[k], 1e-6) << "sentence " << b << " class " << k;
  }
  // The summed loss of the batch is the sum of the single losses.
  SentimentBatch batch{ids, {}};
  for (size_t b = 0; b < ids.size(); ++b) batch.labels.push_back(int32_t(b % 5));
  Graph gl;
  const double summed = model.loss(gl, batch).item();
  double singles = 0;
  for (size_t b = 0; b < ids.size(); ++b) {
    Graph one;
    singles += model.loss(one, SentimentExample{ids[b], batch.labels[b]}).item();
  }
  EXPECT_NEAR(summed, singles, 1e-5);
}

TEST(CnnModel, BatchedScoresEqualOneSentenceAtATime) {
  expect_batch_matches_singles({{1, 2, 3, 4, 5}, {5, 4, 3, 2, 1}, {0, 9, 9, 0, 7}});
}

TEST(CnnModel, ShortSentencesArePaddedTheSameWayInABatch) {
  expect_batch_matches_singles({{1}, {7}, {3}});        // shorter than both widths
  expect_batch_matches_singles({{1, 2}, {8, 9}});       // shorter than the widest
}

TEST(CnnModel, MixedLengthsAreRefused) {
  nn::Model m;
  CnnClassifier model(m, 10, small_config());
  Graph g;
  try {
    model.scores(g, std::vector<std::vector<int32_t>>{{1, 2, 3}, {1, 2}});
    FAIL() << "no error for a batch of lengths 3 and 2";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("one length; got 3 and 2 words"), std::string::npos) << e.what();
  }
}

TEST(CnnModel, AccuracyByLengthGroupsEqualsOneAtATime) {
  nn::Model m;
  CnnClassifier model(m, 10, small_config());
  model.eval();
  std::vector<SentimentExample> data;
  for (int32_t i = 0; i < 40; ++i) {
    std::vector<int32_t> ids;
    for (int32_t t = 0; t < 1 + i % 6; ++t) ids.push_back((i * 7 + t * 3) % 10);
    data.push_back({ids, i % 5});
  }
  int64_t right = 0;
  for (const SentimentExample& ex : data) {
    Graph g;
    right += model.predict(g, ex.ids) == ex.label;
  }
  EXPECT_DOUBLE_EQ(cnn_accuracy(model, data), double(right) / double(data.size()));
}

}  // namespace
}  // namespace flare::examples::testing

#endif  // FLARE_HAVE_EXAMPLES_COMMON
