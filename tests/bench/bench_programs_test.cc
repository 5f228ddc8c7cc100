// Runs each data-driven benchmark program (bench/bench_<task>) twice:
//  * on the real data for about a second, checking the result line bench/run reads (one JSON
//    line with the standard keys, sane throughput, a dev metric in range);
//  * on a tiny data set whose dev split repeats training examples, for a fixed number of updates
//    (deterministic), checking that the printed dev metric beats the best constant predictor
//    by a wide margin: the metric is a real evaluation of a model that really trained.
#include <gtest/gtest.h>

#include <sys/wait.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "flare/backend.h"
#include "flare/io/datasets.h"

namespace {

namespace fs = std::filesystem;

struct Run {
  int status = -1;
  std::string out;
};

Run run(const std::string& cmd) {
  Run r;
  FILE* p = ::popen((cmd + " 2>/dev/null").c_str(), "r");
  if (!p) return r;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
  const int st = ::pclose(p);
  r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

std::string binary(const std::string& name) { return std::string(FLARE_BINARY_DIR) + "/bench/" + name; }

// Runs `cmd`, expecting exit status 0 and exactly one JSON object line on stdout.
nlohmann::json result_of(const std::string& cmd) {
  const Run r = run(cmd);
  EXPECT_EQ(r.status, 0) << cmd;
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1) << cmd << "\n" << r.out;
  nlohmann::json j = nlohmann::json::parse(r.out, nullptr, /*allow_exceptions=*/false);
  EXPECT_TRUE(j.is_object()) << cmd << "\n" << r.out;
  return j.is_object() ? j : nlohmann::json::object();
}

std::vector<std::string> head_lines(const std::string& path, size_t n) {
  std::ifstream in(path);
  std::vector<std::string> out;
  std::string line;
  while (out.size() < n && std::getline(in, line))
    if (line.find_first_not_of(" \t\r") != std::string::npos) out.push_back(line);
  return out;
}

std::vector<std::string> words_of(const std::string& line) {
  std::istringstream in(line);
  std::vector<std::string> out;
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

void write_lines(const fs::path& path, const std::vector<std::string>& lines) {
  fs::create_directories(path.parent_path());
  std::ofstream out(path);
  for (const std::string& l : lines) out << l << "\n";
}

// A scratch data directory under the build tree, emptied first.
fs::path scratch_dir(const std::string& name) {
  const fs::path d = fs::path(FLARE_BINARY_DIR) / "bench_programs_test" / name;
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

// The share of the most frequent entry (the accuracy of the best constant prediction).
double majority_share(const std::vector<std::string>& labels) {
  std::map<std::string, int> n;
  int best = 0;
  for (const std::string& l : labels) best = std::max(best, ++n[l]);
  return labels.empty() ? 0 : double(best) / double(labels.size());
}

// For files split by the i % 10 == 9 rule: 70 lines cycling through the first 7, so that the
// 7 held-out lines (9, 19, .., 69) are each of the 7 once, and each is also trained on 9 times.
std::vector<std::string> cycled(const std::vector<std::string>& base) {
  std::vector<std::string> out;
  for (size_t i = 0; i < 70; ++i) out.push_back(base[i % base.size()]);
  return out;
}

class BenchPrograms : public ::testing::Test {
 protected:
  // GTEST_SKIP() here returns from require() only: each test follows it with
  // `if (IsSkipped()) return;` (otherwise, with benchmarks not built, as in a sanitizer build,
  // the test would go on and fail on the missing program).
  void require(const std::string& bin, const std::string& data_file) {
    if (!flare::io::find_data(data_file))
      GTEST_SKIP() << "data file " << data_file << " not found under " << flare::io::data_dir()
                   << " (set FLARE_DATA to the data directory)";
    if (!fs::exists(binary(bin)))
      GTEST_SKIP() << binary(bin) << " is not built (cmake --build <dir> --target " << bin << ")";
  }

  // The short run on the real data; returns its result line.
  nlohmann::json check_real(const std::string& bin, const std::string& task, const std::string& flags, int sparse, double lo,
                  double hi) {
    const std::string cmd = binary(bin) + " --data '" + flare::io::data_dir() +
                            "' --seconds 1 --dev-limit 50 --seed 3 --sparse " + std::to_string(sparse) + " " + flags;
    const nlohmann::json j = result_of(cmd);
    SCOPED_TRACE(cmd + "\n" + j.dump());
    for (const char* key : {"task", "impl", "mode", "sparse", "examples_per_s", "words_per_s", "dev_metric",
                            "peak_rss_mb", "dev_metric_name", "dev_examples", "seed", "train_seconds",
                            "train_examples", "updates", "epochs"})
      if (!j.contains(key)) {
        ADD_FAILURE() << "missing key " << key;
        return j;
      }
    EXPECT_EQ(j["task"], task);
    EXPECT_EQ(j["impl"], "flare");
    EXPECT_EQ(j["mode"], "eager");
    EXPECT_EQ(j["device"], "cpu");
    EXPECT_EQ(j["sparse"], sparse);
    EXPECT_EQ(j["seed"], 3);
    EXPECT_EQ(j["dev_examples"], 50);
    EXPECT_GE(j["updates"].get<int64_t>(), 1);
    EXPECT_GE(j["train_seconds"].get<double>(), 1.0);
    EXPECT_GT(j["examples_per_s"].get<double>(), 0);
    EXPECT_GT(j["words_per_s"].get<double>(), j["examples_per_s"].get<double>());
    EXPECT_GT(j["peak_rss_mb"].get<double>(), 1);
    EXPECT_GE(j["dev_metric"].get<double>(), lo);
    EXPECT_LE(j["dev_metric"].get<double>(), hi);
    return j;
  }

  // The run on a tiny data set in `dir`; returns its result line.
  nlohmann::json tiny_json(const std::string& bin, const fs::path& dir, const std::string& flags, int updates) {
    const std::string cmd = binary(bin) + " --data '" + dir.string() + "' --seconds 120 --updates " +
                            std::to_string(updates) + " --seed 1 " + flags;
    const nlohmann::json j = result_of(cmd);
    EXPECT_EQ(j.value("updates", -1), updates) << cmd << "\n" << j.dump();
    return j;
  }
  // The same; returns its dev metric.
  double tiny_run(const std::string& bin, const fs::path& dir, const std::string& flags, int updates) {
    return tiny_json(bin, dir, flags, updates).value("dev_metric", std::nan(""));
  }

  // The tagger on 7 sentences of tags/dev.txt cycled (see cycled()); `base` gets the share of
  // the most frequent tag among the held-out tokens.
  double tiny_tagger(const std::string& name, const std::string& flags, double& base) {
    const auto base_lines = head_lines(flare::io::data_dir() + "/tags/dev.txt", 7);
    const fs::path d = scratch_dir(name);
    write_lines(d / "tags/dev.txt", cycled(base_lines));
    std::vector<std::string> tags;
    for (const std::string& l : base_lines)
      for (const std::string& tok : words_of(l)) tags.push_back(tok.substr(tok.rfind('|') + 1));
    base = majority_share(tags);
    return tiny_run("bench_bilstm_tagger", d, flags, 200);
  }
};

TEST_F(BenchPrograms, Treenn) {
  require("bench_treenn", "trees/train.txt");
  if (IsSkipped()) return;
  check_real("bench_treenn", "treenn", "", 0, 0.0, 1.0);
  if (HasFailure()) return;
  // 20 trees, trained on and evaluated on; root labels are the first number of each line.
  const auto trees = head_lines(flare::io::data_dir() + "/trees/train.txt", 20);
  const fs::path d = scratch_dir("treenn");
  write_lines(d / "trees/train.txt", trees);
  write_lines(d / "trees/dev.txt", trees);
  std::vector<std::string> roots;
  for (const std::string& t : trees) roots.push_back(t.substr(1, t.find(' ') - 1));
  const double base = majority_share(roots);
  const double acc = tiny_run("bench_treenn", d, "--sparse 1", 200);
  EXPECT_GE(acc, base + 0.15) << "root accuracy on 20 memorised trees; a constant gets " << base;
  EXPECT_LE(acc, 1.0);
}

TEST_F(BenchPrograms, Sentiment) {
  require("bench_sentiment", "classes/train.txt");
  if (IsSkipped()) return;
  check_real("bench_sentiment", "sentiment", "", 0, 0.0, 1.0);
  if (HasFailure()) return;
  const auto lines = head_lines(flare::io::data_dir() + "/classes/train.txt", 20);
  const fs::path d = scratch_dir("sentiment");
  write_lines(d / "classes/train.txt", lines);
  write_lines(d / "classes/dev.txt", lines);
  std::vector<std::string> labels;
  for (const std::string& l : lines) labels.push_back(words_of(l).at(0));
  const double base = majority_share(labels);
  const double acc = tiny_run("bench_sentiment", d, "--sparse 1", 200);
  EXPECT_GE(acc, base + 0.15) << "accuracy on 20 memorised sentences; a constant gets " << base;
  EXPECT_LE(acc, 1.0);
}

TEST_F(BenchPrograms, BilstmTagger) {
  require("bench_bilstm_tagger", "tags/dev.txt");
  if (IsSkipped()) return;
  const nlohmann::json j = check_real("bench_bilstm_tagger", "bilstm-tagger", "--char 0", 0, 0.0, 1.0);
  EXPECT_TRUE(j.value("char_packing", nlohmann::json(0)).is_null()) << "no char BiLSTM to pack";
  if (HasFailure()) return;
  double base = 0;
  const double acc = tiny_tagger("tagger", "--char 0 --sparse 1", base);
  EXPECT_GE(acc, base + 0.5 * (1 - base)) << "token accuracy on memorised sentences; a constant gets " << base;
  EXPECT_LE(acc, 1.0);
}

TEST_F(BenchPrograms, BilstmTaggerWithChar) {
  require("bench_bilstm_tagger", "tags/dev.txt");
  if (IsSkipped()) return;
  const nlohmann::json j = check_real("bench_bilstm_tagger", "bilstm-tagger-withchar", "--char 1", 1, 0.0, 1.0);
  EXPECT_EQ(j.value("char_packing", -1), 1);
  if (HasFailure()) return;
  // Every word of the tiny set is seen 9 times, so with --char 1 all of them are rare: only the
  // char BiLSTM represents words here.
  double base = 0;
  const double acc = tiny_tagger("tagger_char", "--char 1 --sparse 0", base);
  EXPECT_GE(acc, base + 0.5 * (1 - base)) << "token accuracy on memorised sentences; a constant gets " << base;
  EXPECT_LE(acc, 1.0);
}

// --mode autobatch: the result line adds what the auto-batcher did (the auto-batching issue's
// copy_fraction, and the shares that say where its time went).
TEST_F(BenchPrograms, AutobatchModeReportsTheBatcher) {
  require("bench_bilstm_tagger", "tags/dev.txt");
  if (IsSkipped()) return;
  const auto lines = head_lines(flare::io::data_dir() + "/tags/dev.txt", 7);
  const fs::path d = scratch_dir("tagger_autobatch");
  write_lines(d / "tags/dev.txt", cycled(lines));
  size_t fewest_tokens = SIZE_MAX;
  for (const std::string& l : lines) fewest_tokens = std::min(fewest_tokens, words_of(l).size());
  const nlohmann::json j = tiny_json("bench_bilstm_tagger", d, "--char 1 --sparse 0 --mode autobatch --batch 8", 3);
  SCOPED_TRACE(j.dump());
  EXPECT_EQ(j["mode"], "autobatch");
  EXPECT_EQ(j["batch"], 8);
  for (const char* key : {"copy_fraction", "copy_time_share", "schedule_time_share", "executor_time_share"}) {
    ASSERT_TRUE(j.contains(key)) << key;
    EXPECT_GE(j[key].get<double>(), 0.0) << key;
    EXPECT_LE(j[key].get<double>(), 1.0) << key;
  }
  EXPECT_GT(j["executor_time_share"].get<double>(), 0.0);
  EXPECT_GT(j["schedule_time_share"].get<double>(), 0.0);
  EXPECT_GT(j["mean_group_size"].get<double>(), 2.0);
  // The word BiLSTM alone is six nodes a token (an affine, lstm_state and lstm_output per
  // direction), and every word here also goes through the char BiLSTM.
  EXPECT_GT(j["nodes_per_example"].get<double>(), 6.0 * double(fewest_tokens));
}

TEST_F(BenchPrograms, RnnlmBatch) {
  require("bench_rnnlm_batch", "text/dev.txt");
  if (IsSkipped()) return;
  // Perplexity: above 1, and at most about the vocabulary size (~5,800 words) after a second.
  check_real("bench_rnnlm_batch", "rnnlm-batch", "--minibatch 16", 0, 1.0, 12000.0);
  if (HasFailure()) return;
  const auto base_lines = head_lines(flare::io::data_dir() + "/text/dev.txt", 7);
  const fs::path d = scratch_dir("rnnlm");
  write_lines(d / "text/dev.txt", cycled(base_lines));
  // The best constant prediction is the targets' unigram distribution: its perplexity is
  // exp(entropy) of the held-out targets (each base sentence once, plus </s> each).
  std::map<std::string, int> counts;
  int total = 0;
  for (const std::string& l : base_lines) {
    for (const std::string& w : words_of(l)) ++counts[w], ++total;
    ++counts["</s>"], ++total;
  }
  double entropy = 0;
  for (const auto& [w, n] : counts) entropy -= double(n) / total * std::log(double(n) / total);
  const double unigram = std::exp(entropy);
  // Both initialisations (PyTorch's, the default, and flare's) learn the sentences.
  for (const char* init : {"torch", "flare"}) {
    SCOPED_TRACE(std::string("--init ") + init);
    const double ppl = tiny_run("bench_rnnlm_batch", d, std::string("--minibatch 4 --sparse 1 --init ") + init, 80);
    EXPECT_GT(ppl, 1.0);
    EXPECT_LT(ppl, 0.5 * unigram) << "perplexity on memorised sentences; the unigram model gets " << unigram;
  }
}

// bench_tagger_floor on a data set whose counts are known: ten lines "a|O b|O w|O" with w a
// different three-letter word each time; line 9 is held out, so training has 9 sentences of 3
// tokens in which a and b (seen 9 times) are words and each w (seen once) is rare.
TEST_F(BenchPrograms, TaggerFloorCountsTheArithmetic) {
  if (!fs::exists(binary("bench_tagger_floor")))
    GTEST_SKIP() << binary("bench_tagger_floor") << " is not built";
  const fs::path d = scratch_dir("tagger_floor");
  std::vector<std::string> lines;
  for (char k = 0; k < 10; ++k) lines.push_back(std::string("a|O b|O x") + char('a' + k) + "z|O");
  write_lines(d / "tags/dev.txt", lines);
  // The data directory through $FLARE_DATA, the default of --data.
  const nlohmann::json j =
      result_of("FLARE_DATA='" + d.string() + "' " + binary("bench_tagger_floor") + " --batch 8 --reps 2");
  SCOPED_TRACE(j.dump());
  EXPECT_EQ(j.value("tokens_per_sentence", 0.0), 3.0);
  EXPECT_EQ(j.value("rare_words_per_sentence", 0.0), 1.0);
  EXPECT_EQ(j.value("chars_per_sentence", 0.0), 3.0);
  EXPECT_EQ(j.value("tags", 0), 1);
  EXPECT_EQ(j.value("char_rows", 0), 8);    // one rare word per sentence x 8
  EXPECT_EQ(j.value("mlp_rows", 0), 24);   // 3 tokens x 8
  // Forward + backward = 3 x the forward products' 2 m n k, per direction of each LSTM (gates
  // 4 x hidden; W x at every step, U h at all but each sequence's first), and the MLP:
  //   chars 2 x 6 x 256 x (3 x 20 + 2 x 64) = 577,536
  //   words 2 x 6 x 200 x (3 x 128 + 2 x 50) = 1,161,600
  //   MLP   6 x 3 x (100 x 32 + 32 x 1) = 58,176
  EXPECT_NEAR(j.value("mflop_per_sentence", 0.0), 1.797312, 1e-9);
  const double matrix = j.value("matrix_ms_per_sentence", 0.0);
  const double cells = j.value("cell_ms_per_sentence", 0.0);
  EXPECT_GT(matrix, 0);
  EXPECT_GT(cells, 0);
  EXPECT_NEAR(j.value("floor_ms_per_sentence", 0.0), matrix + cells, 1e-9 * (matrix + cells));
  const double rate = 1.797312e6 / (matrix * 1e-3) * 1e-9;  // GFLOP/s
  EXPECT_NEAR(j.value("matrix_gflop_per_s", 0.0), rate, 1e-6 * rate);
}

// --device: a device that cannot be used stops the program before training, naming the flag
// and why (here: no GPU, or a build without CUDA); a name that is no device is refused too.
// The GPU runs themselves are scripts/gpu-check's.
TEST_F(BenchPrograms, DeviceFlagNamesAnUnusableDevice) {
  require("bench_treenn", "trees/train.txt");
  if (IsSkipped()) return;
  if (flare::device_available(flare::Device::cuda(0)))
    GTEST_SKIP() << "a GPU is present: scripts/gpu-check runs the benchmarks on it";
  const std::string base = binary("bench_treenn") + " --data '" + flare::io::data_dir() + "' --seconds 1";
  // { ...; } 2>&1 inside: run() sends the group's own stderr to /dev/null.
  const ::Run gpu = run("{ " + base + " --device cuda:0 2>&1; }");
  EXPECT_EQ(gpu.status, 1) << gpu.out;
  EXPECT_NE(gpu.out.find("--device cuda:0: "), std::string::npos) << gpu.out;
  EXPECT_EQ(gpu.out.find("examples_per_s"), std::string::npos) << gpu.out;
  const ::Run bad = run("{ " + base + " --device tpu 2>&1; }");
  EXPECT_EQ(bad.status, 1) << bad.out;
  EXPECT_NE(bad.out.find("--device tpu: "), std::string::npos) << bad.out;
}

}  // namespace
