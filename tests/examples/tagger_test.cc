// End-to-end test of examples/tagger (words only, and with the character BiLSTM) on a slice
// of tags/dev.txt: training loss goes down, the checkpoint reloads to the same held-out token
// accuracy, --eval on the held-out sentences agrees, malformed tokens are rejected.
#include "examples/example_runner.h"

namespace flare::examples::testing {
namespace {

// The held-out sentences among the first `n` (i % 10 == 9), as the tagger splits them.
void write_heldout(const std::string& from, const std::string& to, size_t n) {
  std::ifstream in(from);
  std::ofstream out(to);
  std::string line;
  size_t i = 0;
  while (i < n && std::getline(in, line)) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    if (i % 10 == 9) out << line << "\n";
    ++i;
  }
}

void check_tagger(const std::vector<std::string>& extra) {
  std::string data;
  FLARE_REQUIRE_EXAMPLE("tagger", "tags/dev.txt", data);
  io::testing::TempDir dir;
  const std::string ckpt = dir.file("tagger.safetensors");
  std::vector<std::string> args = {"--data", data,   "--limit", "150", "--dev-limit", "30",
                                   "--epochs", "3",  "--hidden", "16", "--lr", "0.005", "--save", ckpt, "--quiet"};
  args.insert(args.end(), extra.begin(), extra.end());
  RunResult train = run_example(dir, "tagger", args);
  ASSERT_EQ(train.exit_code, 0) << describe(train);
  const nlohmann::json& s = train.summary;
  ASSERT_TRUE(s.is_object()) << describe(train);
  EXPECT_EQ(s["example"], "tagger");
  EXPECT_EQ(s["metric"], "token_accuracy");
  EXPECT_EQ(s["train_examples"], 3 * 150);
  EXPECT_LT(s["last_loss"].get<double>(), s["first_loss"].get<double>()) << s.dump();
  const double acc = s["dev_metric"];
  // Most WikiNER tokens are O: even a briefly trained tagger gets most of them.
  EXPECT_GT(acc, 0.5);
  EXPECT_LE(acc, 1.0);

  RunResult again = run_example(dir, "tagger", {"--data", data, "--dev-limit", "30", "--load", ckpt, "--epochs", "0"});
  ASSERT_EQ(again.exit_code, 0) << describe(again);
  EXPECT_DOUBLE_EQ(again.summary["dev_metric"].get<double>(), acc);

  // The first 30 held-out sentences are sentences 9, 19, ..., 299 of the file.
  const std::string held = dir.file("held.txt");
  write_heldout(data + "/tags/dev.txt", held, 300);
  RunResult eval = run_example(dir, "tagger", {"--load", ckpt, "--eval", held});
  ASSERT_EQ(eval.exit_code, 0) << describe(eval);
  EXPECT_DOUBLE_EQ(eval.summary["eval_metric"].get<double>(), acc);

  const std::string bad = dir.file("bad.txt");
  io::testing::write_file(bad, "The|O cat|O\n\nsat|O on the|O mat|O\n");
  RunResult broken = run_example(dir, "tagger", {"--load", ckpt, "--eval", bad});
  EXPECT_EQ(broken.exit_code, 1) << describe(broken);
  EXPECT_NE(broken.err.find(bad + ":3:"), std::string::npos) << broken.err;
}

TEST(TaggerExample, WordsTrainReloadAndEvaluate) { check_tagger({}); }

TEST(TaggerExample, CharactersTrainReloadAndEvaluate) {
  check_tagger({"--char", "--embed", "32", "--char-hidden", "16", "--char-embed", "8"});
}

}  // namespace
}  // namespace flare::examples::testing
