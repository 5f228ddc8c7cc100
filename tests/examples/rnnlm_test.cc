// End-to-end test of examples/rnnlm on a slice of text/dev.txt: training loss goes down, the
// checkpoint reloads to the same held-out perplexity, --eval on the held-out sentences agrees.
#include "examples/example_runner.h"

namespace flare::examples::testing {
namespace {

TEST(RnnLmExample, TrainsReloadsAndEvaluates) {
  std::string data;
  FLARE_REQUIRE_EXAMPLE("rnnlm", "text/dev.txt", data);
  io::testing::TempDir dir;
  const std::string ckpt = dir.file("rnnlm.safetensors");
  RunResult train = run_example(dir, "rnnlm",
                                {"--data", data, "--limit", "96", "--dev-limit", "20", "--epochs", "3", "--minibatch",
                                 "8", "--hidden", "32", "--embed", "32", "--lr", "0.01", "--save", ckpt, "--quiet"});
  ASSERT_EQ(train.exit_code, 0) << describe(train);
  const nlohmann::json& s = train.summary;
  ASSERT_TRUE(s.is_object()) << describe(train);
  EXPECT_EQ(s["example"], "rnnlm");
  EXPECT_EQ(s["metric"], "perplexity");
  EXPECT_EQ(s["train_examples"], 3 * 96);
  EXPECT_EQ(s["minibatch"], 8);
  EXPECT_LT(s["last_loss"].get<double>(), s["first_loss"].get<double>()) << s.dump();
  const double ppl = s["dev_metric"];
  EXPECT_GT(ppl, 1.0);

  RunResult again = run_example(dir, "rnnlm", {"--data", data, "--dev-limit", "20", "--load", ckpt, "--epochs", "0"});
  ASSERT_EQ(again.exit_code, 0) << describe(again);
  EXPECT_DOUBLE_EQ(again.summary["dev_metric"].get<double>(), ppl);

  // The first 20 held-out sentences: lines 10, 20, ..., 200 of the file.
  const std::string held = dir.file("held.txt");
  {
    std::ifstream in(data + "/text/dev.txt");
    std::ofstream out(held);
    std::string line;
    for (int i = 0; i < 200 && std::getline(in, line); ++i)
      if (i % 10 == 9) out << line << "\n";
  }
  RunResult eval = run_example(dir, "rnnlm", {"--load", ckpt, "--eval", held});
  ASSERT_EQ(eval.exit_code, 0) << describe(eval);
  EXPECT_NEAR(eval.summary["eval_metric"].get<double>(), ppl, 1e-9 * ppl);
}

}  // namespace
}  // namespace flare::examples::testing
