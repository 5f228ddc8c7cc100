// The examples' --autobatch N (examples/common/batching.h): for each model the examples train
// with --autobatch (sentiment bi-LSTM, tagger with and without the character BiLSTM, Tree-LSTM),
// one autobatched update's gradients and summed loss equal those of the same examples run one at
// a time with their gradients summed (--update-every N), to float rounding; and the example
// programs train with --autobatch (loss falls, the first epoch's loss and the held-out accuracy
// match the per-example run with the same summed-gradient schedule).
#ifdef FLARE_HAVE_EXAMPLES_COMMON

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "common/batching.h"
#include "common/sentiment_model.h"
#include "common/tagger_model.h"
#include "common/text.h"
#include "common/treelstm_model.h"
#include "examples/example_runner.h"
#include "flare/io/tree.h"

namespace flare::examples::testing {
namespace {

struct Gradients {
  double loss = 0;
  std::vector<std::vector<double>> grads;  // per parameter, in parameters() order
};

// Runs one update's worth of examples 0..n-1 through a GradientAccumulator (autobatch 0: one at
// a time) from fresh zero gradients and the same generator state, and returns what it summed.
Gradients accumulate(const std::vector<Parameter*>& params, const LossFn& loss, size_t n, int64_t autobatch) {
  for (Parameter* p : params) p->zero_grad();
  manual_seed(7);  // dropout masks are drawn as nodes are added, in the same order either way
  GradientAccumulator acc(loss, autobatch);
  Gradients r;
  for (size_t i = 0; i < n; ++i) r.loss += acc.add(i);
  EXPECT_EQ(acc.pending(), autobatch > 0 ? n : 0u);
  r.loss += acc.flush();
  EXPECT_EQ(acc.pending(), 0u);
  if (autobatch > 0) {
    // The batcher really batched: fewer kernel calls than nodes.
    EXPECT_GT(acc.stats()->mean_group_size(), 1.5);
  }
  for (Parameter* p : params) r.grads.push_back(p->grad().to_vector());
  return r;
}

// Autobatched and per-example gradients agree elementwise within float rounding of the sums
// (relative to the largest gradient of the parameter), and none is all zero.
void expect_same_update(const std::vector<Parameter*>& params, const LossFn& loss, size_t n) {
  const Gradients one = accumulate(params, loss, n, 0);
  const Gradients batched = accumulate(params, loss, n, int64_t(n));
  EXPECT_NEAR(batched.loss, one.loss, 1e-5 * std::abs(one.loss));
  ASSERT_EQ(one.grads.size(), batched.grads.size());
  for (size_t k = 0; k < params.size(); ++k) {
    const std::vector<double>& a = one.grads[k];
    const std::vector<double>& b = batched.grads[k];
    ASSERT_EQ(a.size(), b.size()) << params[k]->name();
    double scale = 0;
    for (double v : a) scale = std::max(scale, std::abs(v));
    if (!params[k]->trainable()) continue;
    EXPECT_GT(scale, 0) << params[k]->name() << ": no gradient reached it";
    size_t bad = 0;
    double worst = 0;
    for (size_t e = 0; e < a.size(); ++e) {
      const double d = std::abs(a[e] - b[e]);
      worst = std::max(worst, d);
      if (d > 1e-4 * scale + 1e-7) ++bad;
    }
    EXPECT_EQ(bad, 0u) << params[k]->name() << ": largest difference " << worst << " of gradients up to "
                       << scale;
  }
}

TEST(AutobatchExamples, SentimentUpdateEqualsPerExampleSum) {
  const auto raw = io::parse_labelled(
      "0 ||| a dull , lifeless film\n"
      "4 ||| a joyous and moving story\n"
      "2 ||| it is a film\n"
      "3 ||| good acting and a fine script\n"
      "1 ||| not very good at all , sadly\n"
      "4 ||| wonderful\n"
      "0 ||| the worst film of the year\n"
      "2 ||| the story is told in order\n");
  std::vector<std::vector<std::string>> words;
  for (const auto& s : raw) words.push_back(s.words);
  const io::Vocabulary vocab = first_seen_vocab(words);
  const auto data = prepare_sentiment(raw, vocab, 5, "<test>");
  for (const std::string pool : {"final", "max"}) {
    SCOPED_TRACE("pool " + pool);
    SentimentConfig cfg;
    cfg.embed = 12;
    cfg.hidden = 10;
    cfg.dropout = 0.3;  // training mode: masks must be the same in both runs
    cfg.pool = pool;
    manual_seed(3);
    nn::Model m;
    SentimentModel model(m, vocab.size(), cfg);
    model.train(true);
    const LossFn loss = [&](Graph& g, size_t i) {
      SentimentBatch b;
      b.ids.push_back(data[i].ids);
      b.labels.push_back(data[i].label);
      return model.loss(g, b);
    };
    expect_same_update(m.parameters(), loss, data.size());
  }
}

TEST(AutobatchExamples, TaggerUpdateEqualsPerExampleSum) {
  const auto sentences = io::parse_tagged(
      "John|B-PER lives|O in|O Paris|B-LOC .|O\n"
      "The|O cat|O sat|O\n"
      "Mary|B-PER and|O John|B-PER went|O to|O New|B-LOC York|I-LOC\n"
      "It|O rained|O in|O Paris|B-LOC\n"
      "Zyx|B-ORG Qwv|I-ORG Corp|I-ORG hired|O John|B-PER\n"
      "The|O dog|O sat|O in|O the|O sun|O .|O\n");
  // With characters, per-example runs both ways (packed per sentence, and one char BiLSTM per
  // word as the auto-batcher gets them): each must match the auto-batched update.
  for (const int variant : {0, 1, 2}) {
    const bool chars = variant > 0, packed = variant == 1;
    SCOPED_TRACE(!chars ? "words only" : packed ? "with --char, packed" : "with --char, per word");
    TaggerConfig cfg;
    cfg.pack_chars = packed;
    cfg.embed = 12;
    cfg.hidden = 8;
    cfg.mlp = 6;
    cfg.chars = chars;
    cfg.char_embed = 5;
    cfg.char_hidden = 6;  // 2 * char_hidden = embed
    cfg.rare_max = 1;     // words seen once are read by characters
    const TaggerVocabs vocabs = build_tagger_vocabs(sentences, sentences, cfg);
    const auto data = prepare_tagged(sentences, vocabs, cfg, "<test>", true);
    if (chars) {
      size_t rare = 0;
      for (const auto& ex : data) rare += size_t(std::count(ex.words.begin(), ex.words.end(), -1));
      ASSERT_GT(rare, 3u) << "the test needs words read by the character BiLSTM";
    }
    manual_seed(4);
    nn::Model m;
    TaggerModel model(m, vocabs, cfg);
    model.train(true);
    const LossFn loss = [&](Graph& g, size_t i) { return model.loss(g, data[i]); };
    expect_same_update(m.parameters(), loss, data.size());
  }
}

TEST(AutobatchExamples, TreeLstmUpdateEqualsPerExampleSum) {
  const auto trees = io::parse_trees(
      "(3 (2 a) (4 (3 (2 fine) (3 film)) (2 .)))\n"
      "(1 (2 not) (1 good))\n"
      "(4 (4 wonderful) (2 (2 and) (3 (3 moving) (2 story))))\n"
      "(0 (1 (1 dull) (2 ,)) (0 (1 lifeless) (2 film)))\n"
      "(2 it)\n");
  const io::Vocabulary vocab = first_seen_vocab(tree_words(trees));
  const auto data = prepare_trees(trees, vocab, 5, "<test>");
  TreeConfig cfg;
  cfg.embed = 10;
  cfg.hidden = 9;
  cfg.dropout = 0.2;
  manual_seed(5);
  nn::Model m;
  TreeSentimentModel model(m, vocab.size(), cfg);
  model.train(true);
  const LossFn loss = [&](Graph& g, size_t i) { return model.loss(g, data[i]); };
  expect_same_update(m.parameters(), loss, data.size());
}

TEST(AutobatchExamples, AccumulatorRefusesBadArguments) {
  EXPECT_THROW(GradientAccumulator(nullptr, 4), Error);
  EXPECT_THROW(GradientAccumulator([](Graph& g, size_t) { return g.input(Tensor::zeros({1})); }, -1), Error);
}

// The programs: --autobatch N trains (loss falls; the summary reports the batcher's copy
// fraction and group size) and matches --update-every N, the same summed-gradient schedule run
// one example at a time: the same first-epoch loss to rounding, a close held-out metric.
void check_program(const std::string& name, const std::string& relative, const std::string& metric,
                   std::vector<std::string> args) {
  std::string data;
  FLARE_REQUIRE_EXAMPLE(name, relative, data);
  io::testing::TempDir dir;
  args.insert(args.begin(), {"--data", data, "--quiet", "--sparse", "0"});
  std::vector<std::string> batched_args = args, one_args = args;
  batched_args.insert(batched_args.end(), {"--autobatch", "8"});
  one_args.insert(one_args.end(), {"--update-every", "8"});
  const RunResult batched = run_example(dir, name, batched_args);
  ASSERT_EQ(batched.exit_code, 0) << describe(batched);
  const nlohmann::json& b = batched.summary;
  ASSERT_TRUE(b.is_object()) << describe(batched);
  EXPECT_EQ(b["metric"], metric);
  EXPECT_LT(b["last_loss"].get<double>(), b["first_loss"].get<double>()) << b.dump();
  EXPECT_EQ(b["autobatch"], 8);
  EXPECT_GT(b["mean_group_size"].get<double>(), 2.0) << b.dump();
  EXPECT_GE(b["copy_fraction"].get<double>(), 0.0);
  EXPECT_LE(b["copy_fraction"].get<double>(), 1.0);

  const RunResult one = run_example(dir, name, one_args);
  ASSERT_EQ(one.exit_code, 0) << describe(one);
  const nlohmann::json& o = one.summary;
  EXPECT_FALSE(o.contains("autobatch")) << o.dump();
  EXPECT_EQ(b["train_examples"], o["train_examples"]);
  // The first epoch's updates differ only by float rounding of the batched sums.
  EXPECT_NEAR(b["first_loss"].get<double>(), o["first_loss"].get<double>(),
              2e-3 * std::abs(o["first_loss"].get<double>()))
      << "autobatch " << b.dump() << "\nper example " << o.dump();
  EXPECT_NEAR(b["dev_metric"].get<double>(), o["dev_metric"].get<double>(), 0.03)
      << "autobatch " << b.dump() << "\nper example " << o.dump();
}

TEST(AutobatchExamples, TaggerProgramTrains) {
  check_program("tagger", "tags/dev.txt", "token_accuracy",
                {"--limit", "120", "--dev-limit", "30", "--epochs", "3", "--hidden", "16", "--lr", "0.005"});
}

TEST(AutobatchExamples, TaggerCharProgramTrains) {
  check_program("tagger", "tags/dev.txt", "token_accuracy",
                {"--char", "--limit", "80", "--dev-limit", "20", "--epochs", "2", "--hidden", "16", "--lr", "0.005"});
}

TEST(AutobatchExamples, SentimentProgramTrains) {
  check_program("sentiment", "classes/train.txt", "accuracy",
                {"--limit", "160", "--dev-limit", "50", "--epochs", "3", "--embed", "16", "--hidden", "16",
                 "--dropout", "0", "--word-dropout", "0"});
}

TEST(AutobatchExamples, TreeLstmProgramTrains) {
  check_program("treelstm", "trees/train.txt", "root_accuracy",
                {"--limit", "120", "--dev-limit", "50", "--epochs", "3", "--embed", "16", "--hidden", "16",
                 "--dropout", "0"});
}

TEST(AutobatchExamples, SentimentRejectsBatchWithAutobatch) {
  std::string data;
  FLARE_REQUIRE_EXAMPLE("sentiment", "classes/train.txt", data);
  io::testing::TempDir dir;
  const RunResult r = run_example(dir, "sentiment",
                                  {"--data", data, "--quiet", "--limit", "10", "--batch", "4", "--autobatch", "8"});
  EXPECT_EQ(r.exit_code, 1) << describe(r);
  EXPECT_NE(r.err.find("--batch 4"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace flare::examples::testing

#endif  // FLARE_HAVE_EXAMPLES_COMMON
