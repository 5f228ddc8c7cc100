// End-to-end test of examples/cnn on a slice of classes/: it trains in length-grouped batches
// (the training loss goes down, every sentence is counted), --help lists its flags, and bad
// flags are rejected by name.
#include "examples/example_runner.h"

namespace flare::examples::testing {
namespace {

TEST(CnnExample, HelpNamesTheFlags) {
  std::string data;
  FLARE_REQUIRE_EXAMPLE("cnn", "", data);
  io::testing::TempDir dir;
  RunResult r = run_example(dir, "cnn", {"--help"});
  ASSERT_EQ(r.exit_code, 0) << describe(r);
  for (const char* flag : {"--data", "--epochs", "--seconds", "--seed", "--limit", "--widths", "--maps",
                           "--dropout", "--embed-scale", "--optimizer", "--lr", "--max-norm", "--batch"})
    EXPECT_NE(r.out.find(flag), std::string::npos) << flag << " missing from --help:\n" << r.out;
}

TEST(CnnExample, TrainsInBatchesAndLossFalls) {
  std::string data;
  FLARE_REQUIRE_EXAMPLE("cnn", "classes/train.txt", data);
  io::testing::TempDir dir;
  for (const char* optimizer : {"adam", "adadelta"}) {
    SCOPED_TRACE(optimizer);
    const std::string lr = std::string(optimizer) == "adam" ? "0.003" : "1.0";
    RunResult r = run_example(dir, "cnn",
                              {"--data", data, "--limit", "300", "--dev-limit", "80", "--epochs", "3", "--embed", "32",
                               "--maps", "16", "--batch", "10", "--optimizer", optimizer, "--lr", lr, "--quiet"});
    ASSERT_EQ(r.exit_code, 0) << describe(r);
    const nlohmann::json& s = r.summary;
    ASSERT_TRUE(s.is_object()) << describe(r);
    EXPECT_EQ(s["example"], "cnn");
    EXPECT_EQ(s["metric"], "accuracy");
    EXPECT_EQ(s["epochs"], 3);
    EXPECT_EQ(s["train_examples"], 3 * 300);  // sentences, not batches
    EXPECT_LT(s["last_loss"].get<double>(), s["first_loss"].get<double>()) << s.dump();
    const double dev = s["dev_metric"];
    EXPECT_GE(dev, 0.0);
    EXPECT_LE(dev, 1.0);
  }
}

TEST(CnnExample, RejectsBadFlags) {
  std::string data;
  FLARE_REQUIRE_EXAMPLE("cnn", "classes/train.txt", data);
  io::testing::TempDir dir;
  RunResult r = run_example(dir, "cnn", {"--data", data, "--limit", "20", "--optimizer", "sgd"});
  EXPECT_EQ(r.exit_code, 1) << describe(r);
  EXPECT_NE(r.err.find("--optimizer must be adam or adadelta, got sgd"), std::string::npos) << r.err;
  r = run_example(dir, "cnn", {"--data", data, "--limit", "20", "--max-norm", "-1"});
  EXPECT_NE(r.exit_code, 0) << describe(r);
  EXPECT_NE(r.err.find("--max-norm"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace flare::examples::testing
