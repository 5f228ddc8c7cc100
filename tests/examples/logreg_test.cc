// End-to-end test of examples/logreg (generated data, no data directory needed): training loss
// goes down, accuracy is high on the separable blobs, the checkpoint reloads to the same
// held-out accuracy and --eval of the written held-out file agrees, --seconds ends training.
#include "examples/example_runner.h"

namespace flare::examples::testing {
namespace {

TEST(LogregExample, TrainsReloadsAndEvaluates) {
  std::string unused;
  FLARE_REQUIRE_EXAMPLE("logreg", "", unused);
  io::testing::TempDir dir;
  const std::string ckpt = dir.file("logreg.safetensors"), held = dir.file("held.txt");
  RunResult train = run_example(dir, "logreg", {"--examples", "400", "--dim", "10", "--epochs", "3", "--save", ckpt,
                                                "--write-heldout", held, "--quiet"});
  ASSERT_EQ(train.exit_code, 0) << describe(train);
  const nlohmann::json& s = train.summary;
  ASSERT_TRUE(s.is_object()) << describe(train);
  EXPECT_EQ(s["example"], "logreg");
  EXPECT_EQ(s["train_examples"], 3 * 400);
  EXPECT_LT(s["last_loss"].get<double>(), s["first_loss"].get<double>()) << s.dump();
  const double acc = s["dev_metric"];
  EXPECT_GT(acc, 0.8);

  RunResult again = run_example(dir, "logreg", {"--examples", "400", "--load", ckpt, "--epochs", "0"});
  ASSERT_EQ(again.exit_code, 0) << describe(again);
  EXPECT_DOUBLE_EQ(again.summary["dev_metric"].get<double>(), acc);

  RunResult eval = run_example(dir, "logreg", {"--load", ckpt, "--eval", held});
  ASSERT_EQ(eval.exit_code, 0) << describe(eval);
  EXPECT_DOUBLE_EQ(eval.summary["eval_metric"].get<double>(), acc);

  const std::string bad = dir.file("bad.txt");
  io::testing::write_file(bad, "1 0 0 0 0 0 0 0 0 0 0\n\n0 1 2 3\n");
  RunResult broken = run_example(dir, "logreg", {"--load", ckpt, "--eval", bad});
  EXPECT_EQ(broken.exit_code, 1) << describe(broken);
  EXPECT_NE(broken.err.find(bad + ":3: 3 values after the label; the model takes 10"), std::string::npos)
      << broken.err;
}

TEST(LogregExample, TimeBudgetEndsTraining) {
  std::string unused;
  FLARE_REQUIRE_EXAMPLE("logreg", "", unused);
  io::testing::TempDir dir;
  RunResult r = run_example(dir, "logreg", {"--epochs", "1000000", "--seconds", "0.5", "--quiet"});
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  EXPECT_LT(r.summary["epochs"].get<int>(), 1000000);
  EXPECT_LT(r.summary["train_seconds"].get<double>(), 10.0);
}

}  // namespace
}  // namespace flare::examples::testing
