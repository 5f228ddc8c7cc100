// End-to-end test of examples/treelstm on a slice of trees/: training loss goes down, the
// checkpoint reloads to the same root accuracy, --eval agrees, malformed trees are rejected.
#include "examples/example_runner.h"

namespace flare::examples::testing {
namespace {

TEST(TreeLstmExample, TrainsReloadsAndEvaluates) {
  std::string data;
  FLARE_REQUIRE_EXAMPLE("treelstm", "trees/train.txt", data);
  io::testing::TempDir dir;
  const std::string ckpt = dir.file("tree.safetensors");
  RunResult train = run_example(dir, "treelstm",
                                {"--data", data, "--limit", "120", "--dev-limit", "60", "--epochs", "3", "--hidden",
                                 "32", "--embed", "32", "--lr", "0.005", "--save", ckpt, "--quiet"});
  ASSERT_EQ(train.exit_code, 0) << describe(train);
  const nlohmann::json& s = train.summary;
  ASSERT_TRUE(s.is_object()) << describe(train);
  EXPECT_EQ(s["example"], "treelstm");
  EXPECT_EQ(s["metric"], "root_accuracy");
  EXPECT_EQ(s["train_examples"], 3 * 120);
  EXPECT_LT(s["last_loss"].get<double>(), s["first_loss"].get<double>()) << s.dump();
  const double dev = s["dev_metric"];
  EXPECT_GE(dev, 0.0);
  EXPECT_LE(dev, 1.0);

  RunResult again = run_example(dir, "treelstm", {"--data", data, "--dev-limit", "60", "--load", ckpt, "--epochs", "0"});
  ASSERT_EQ(again.exit_code, 0) << describe(again);
  EXPECT_DOUBLE_EQ(again.summary["dev_metric"].get<double>(), dev);

  const std::string head = dir.file("dev60.txt");
  write_head(data + "/trees/dev.txt", head, 60);
  RunResult eval = run_example(dir, "treelstm", {"--load", ckpt, "--eval", head});
  ASSERT_EQ(eval.exit_code, 0) << describe(eval);
  EXPECT_DOUBLE_EQ(eval.summary["eval_metric"].get<double>(), dev);

  const std::string bad = dir.file("bad.txt");
  io::testing::write_file(bad, "(3 (2 a) (3 film))\n(2 (2 unbalanced)\n");
  RunResult broken = run_example(dir, "treelstm", {"--load", ckpt, "--eval", bad});
  EXPECT_EQ(broken.exit_code, 1) << describe(broken);
  EXPECT_NE(broken.err.find(bad + ":2:"), std::string::npos) << broken.err;
  io::testing::write_file(bad, "\n(3 (2 a) (9 film))\n");
  broken = run_example(dir, "treelstm", {"--load", ckpt, "--eval", bad});
  EXPECT_EQ(broken.exit_code, 1) << describe(broken);
  EXPECT_NE(broken.err.find(bad + ":2: label 9 of node 2"), std::string::npos) << broken.err;
}

}  // namespace
}  // namespace flare::examples::testing
