// End-to-end test of examples/sentiment on a slice of classes/: it trains, its training loss
// goes down, the checkpoint reloads to the same dev accuracy, --eval on a file of the same
// sentences agrees, and a malformed file is rejected with its name and line.
#include "examples/example_runner.h"

namespace flare::examples::testing {
namespace {

TEST(SentimentExample, HelpNamesTheSharedFlags) {
  std::string data;
  FLARE_REQUIRE_EXAMPLE("sentiment", "", data);
  io::testing::TempDir dir;
  RunResult r = run_example(dir, "sentiment", {"--help"});
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  for (const char* flag : {"--data", "--epochs", "--seconds", "--seed", "--save", "--load", "--eval", "--limit",
                           "--embeddings", "--dropout"})
    EXPECT_NE(r.out.find(flag), std::string::npos) << flag << " missing from --help:\n" << r.out;
}

TEST(SentimentExample, TrainsReloadsAndEvaluates) {
  std::string data;
  FLARE_REQUIRE_EXAMPLE("sentiment", "classes/train.txt", data);
  io::testing::TempDir dir;
  const std::string ckpt = dir.file("sentiment.safetensors");
  RunResult train = run_example(dir, "sentiment",
                                {"--data", data, "--limit", "240", "--dev-limit", "80", "--epochs", "3", "--hidden",
                                 "32", "--embed", "32", "--lr", "0.005", "--save", ckpt, "--quiet"});
  ASSERT_EQ(train.exit_code, 0) << describe(train);
  const nlohmann::json& s = train.summary;
  ASSERT_TRUE(s.is_object()) << describe(train);
  EXPECT_EQ(s["example"], "sentiment");
  EXPECT_EQ(s["metric"], "accuracy");
  EXPECT_EQ(s["epochs"], 3);
  EXPECT_EQ(s["train_examples"], 3 * 240);
  EXPECT_TRUE(s["eval_metric"].is_null());
  EXPECT_GT(s["examples_per_s"].get<double>(), 0);
  EXPECT_LT(s["last_loss"].get<double>(), s["first_loss"].get<double>()) << s.dump();
  const double dev = s["dev_metric"];
  EXPECT_GE(dev, 0.0);
  EXPECT_LE(dev, 1.0);
  ASSERT_TRUE(std::filesystem::exists(ckpt));

  // The reloaded model scores the same dev sentences the same way.
  RunResult again = run_example(dir, "sentiment", {"--data", data, "--dev-limit", "80", "--load", ckpt, "--epochs", "0"});
  ASSERT_EQ(again.exit_code, 0) << describe(again);
  EXPECT_DOUBLE_EQ(again.summary["dev_metric"].get<double>(), dev);
  EXPECT_TRUE(again.summary["first_loss"].is_null());

  // --eval on a file holding those sentences gives the same accuracy, without the data dir.
  const std::string head = dir.file("dev80.txt");
  write_head(data + "/classes/dev.txt", head, 80);
  RunResult eval = run_example(dir, "sentiment", {"--data", dir.file("nowhere"), "--load", ckpt, "--eval", head});
  ASSERT_EQ(eval.exit_code, 0) << describe(eval);
  EXPECT_DOUBLE_EQ(eval.summary["eval_metric"].get<double>(), dev);
  EXPECT_TRUE(eval.summary["dev_metric"].is_null());

  // Malformed lines are rejected with the file and the line.
  const std::string bad = dir.file("bad.txt");
  io::testing::write_file(bad, "3 ||| a fine film\n\nfour ||| not a label\n");
  RunResult broken = run_example(dir, "sentiment", {"--load", ckpt, "--eval", bad});
  EXPECT_EQ(broken.exit_code, 1) << describe(broken);
  EXPECT_NE(broken.err.find(bad + ":3:"), std::string::npos) << broken.err;
  io::testing::write_file(bad, "3 ||| a fine film\n7 ||| too positive\n");
  broken = run_example(dir, "sentiment", {"--load", ckpt, "--eval", bad});
  EXPECT_EQ(broken.exit_code, 1) << describe(broken);
  EXPECT_NE(broken.err.find(bad + ":2: label 7 is outside 0..4"), std::string::npos) << broken.err;

  // A checkpoint of another example is refused by name.
  RunResult wrong = run_example(dir, "treelstm", {"--load", ckpt, "--eval", head});
  if (std::filesystem::exists(example_binary("treelstm"))) {
    EXPECT_EQ(wrong.exit_code, 1);
    EXPECT_NE(wrong.err.find("a checkpoint of the 'sentiment' example"), std::string::npos) << wrong.err;
  }
}

TEST(SentimentExample, EvalNeedsLoad) {
  std::string data;
  FLARE_REQUIRE_EXAMPLE("sentiment", "", data);
  io::testing::TempDir dir;
  RunResult r = run_example(dir, "sentiment", {"--eval", "x.txt"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("--eval x.txt needs a trained model"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace flare::examples::testing
