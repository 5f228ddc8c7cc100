// End-to-end test of examples/charlm on a slice of text/dev.txt: training loss goes down, the
// checkpoint reloads to the same held-out bits per character and samples the same text with the
// same seed, --eval scores another file, invalid UTF-8 is rejected with file and line.
#include <cmath>

#include "examples/example_runner.h"

namespace flare::examples::testing {
namespace {

TEST(CharLmExample, TrainsReloadsSamplesAndEvaluates) {
  std::string data;
  FLARE_REQUIRE_EXAMPLE("charlm", "text/dev.txt", data);
  io::testing::TempDir dir;
  const std::string ckpt = dir.file("charlm.safetensors");
  const std::string text = data + "/text/dev.txt";
  RunResult train = run_example(dir, "charlm",
                                {"--text", text, "--limit", "96", "--batch", "32", "--seq-len", "32", "--dev-limit",
                                 "40", "--epochs", "4", "--hidden", "32", "--embed", "16", "--lr", "0.01", "--save",
                                 ckpt, "--generate", "80", "--quiet"});
  ASSERT_EQ(train.exit_code, 0) << describe(train);
  const nlohmann::json& s = train.summary;
  ASSERT_TRUE(s.is_object()) << describe(train);
  EXPECT_EQ(s["example"], "charlm");
  EXPECT_EQ(s["metric"], "bits_per_char");
  EXPECT_EQ(s["train_examples"], 4 * 96);
  EXPECT_LT(s["last_loss"].get<double>(), s["first_loss"].get<double>()) << s.dump();
  const double bpc = s["dev_metric"];
  // Better than a uniform guess over the characters, worse than perfect.
  EXPECT_GT(bpc, 0.5);
  EXPECT_LT(bpc, 6.0);
  const std::string sample = s["sample"];
  EXPECT_GE(sample.size(), 80u);
  EXPECT_NE(train.out.find(sample), std::string::npos) << "the sample is printed before the summary";

  RunResult again = run_example(dir, "charlm", {"--text", text, "--dev-limit", "40", "--load", ckpt, "--epochs", "0"});
  ASSERT_EQ(again.exit_code, 0) << describe(again);
  EXPECT_DOUBLE_EQ(again.summary["dev_metric"].get<double>(), bpc);

  // Generating from the checkpoint needs no text (a loaded model is not trained without
  // --epochs) and repeats the sample of the same seed.
  RunResult gen = run_example(dir, "charlm", {"--data", dir.file("nowhere"), "--load", ckpt, "--generate", "80"});
  ASSERT_EQ(gen.exit_code, 0) << describe(gen);
  EXPECT_EQ(gen.summary["sample"], sample);
  RunResult primed = run_example(dir, "charlm", {"--load", ckpt, "--epochs", "0", "--generate", "20", "--prime",
                                                 "the ", "--temperature", "0"});
  ASSERT_EQ(primed.exit_code, 0) << describe(primed);
  EXPECT_EQ(primed.summary["sample"].get<std::string>().rfind("the ", 0), 0u);

  const std::string other = dir.file("other.txt");
  write_head(text, other, 200);
  RunResult eval = run_example(dir, "charlm", {"--load", ckpt, "--eval", other});
  ASSERT_EQ(eval.exit_code, 0) << describe(eval);
  const double eval_bpc = eval.summary["eval_metric"];
  EXPECT_TRUE(std::isfinite(eval_bpc));
  EXPECT_GT(eval_bpc, 0.5);

  const std::string bad = dir.file("bad.txt");
  io::testing::write_file(bad, "fine\nno\xff good\n");
  RunResult broken = run_example(dir, "charlm", {"--load", ckpt, "--eval", bad});
  EXPECT_EQ(broken.exit_code, 1) << describe(broken);
  EXPECT_NE(broken.err.find(bad + ":2: invalid UTF-8 at byte 3"), std::string::npos) << broken.err;
}

}  // namespace
}  // namespace flare::examples::testing
