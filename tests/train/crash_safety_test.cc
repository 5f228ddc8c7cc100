// Crash safety of checkpoints: a child process saves large checkpoints over one path, again
// and again, and is killed with SIGKILL at random moments, many times. After every kill the
// path must hold a complete checkpoint of one of the versions the child wrote (never older
// than the last one seen, never a mix), and every leftover temporary file must have a name of
// its own (never the checkpoint's) and either be rejected by the loader or hold one complete
// version: no partial file is ever taken for a checkpoint.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <iostream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "flare/error.h"
#include "flare/optim/adam.h"
#include "flare/train/checkpoint.h"

namespace {
using namespace flare;
namespace fs = std::filesystem;

constexpr int64_t kRows = 384, kCols = 512;  // with Adam's two slots: ~4.5 MiB per checkpoint

struct Model {
  Parameter a{"a", Tensor::zeros(Shape{kRows, kCols})};
  Parameter b{"b", Tensor::zeros(Shape{kRows, kCols})};
  std::vector<Parameter*> params{&a, &b};
  optim::Adam opt{params};
};

// Version v's contents: every element of every parameter is determined by v, so a file that
// mixed two versions, or held a torn write, cannot pass check_version().
float element(int64_t v, int p, int64_t i) { return float(v) + float(p) * 0.25f + float(i % 997) * 0.001f; }

void set_version(Model& m, int64_t v) {
  for (int p = 0; p < 2; ++p) {
    float* x = m.params[size_t(p)]->value().data<float>();
    for (int64_t i = 0; i < kRows * kCols; ++i) x[i] = element(v, p, i);
  }
}

// Loads `path` and returns its version after checking every element against it.
int64_t load_version(const std::string& path) {
  Model m;
  const io::Metadata meta = train::load_checkpoint(path, m.params, &m.opt);
  const int64_t v = std::stoll(meta.at("version"));
  for (int p = 0; p < 2; ++p) {
    const float* x = m.params[size_t(p)]->value().data<float>();
    for (int64_t i = 0; i < kRows * kCols; ++i)
      if (x[i] != element(v, p, i))
        throw std::runtime_error(path + ": version " + std::to_string(v) + " has a wrong element");
  }
  return v;
}

void save_version(const std::string& path, Model& m, int64_t v) {
  set_version(m, v);
  train::save_checkpoint(path, m.params, &m.opt, {{"version", std::to_string(v)}});
}

TEST(CrashSafety, SigkillDuringSaveNeverLeavesAPartialCheckpoint) {
  std::string dir_template = (fs::temp_directory_path() / "flare-crash-XXXXXX").string();
  ASSERT_NE(mkdtemp(dir_template.data()), nullptr);
  const fs::path dir = dir_template;
  const std::string path = (dir / "model.safetensors").string();

  Model m;
  const auto t0 = std::chrono::steady_clock::now();
  save_version(path, m, 0);
  const double save_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  ASSERT_EQ(load_version(path), 0);

  // Kill at uniformly random moments over a few saves' time, so kills land in every phase:
  // filling values, serialising, writing, fsync, rename.
  std::mt19937_64 rng(12345);
  std::uniform_real_distribution<double> delay(0.0, 3.0 * save_s + 0.002);
  // At least 40 kills, and more (up to 400) until some landed mid-write: which moments a kill
  // hits depends on the machine's load, and a run with no torn write would prove nothing.
  const int min_kills = 40, max_kills = 400;
  int kills = 0;
  int64_t last = 0;
  int torn_temporaries = 0, complete_temporaries = 0;
  for (int k = 0; k < max_kills && (k < min_kills || torn_temporaries == 0); ++k) {
    ++kills;
    const int64_t start = last + 1;
    const pid_t child = fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      // The child only saves, newer and newer versions, until it is killed (or, as a safety
      // net, after a minute).
      const auto begin = std::chrono::steady_clock::now();
      for (int64_t v = start; std::chrono::steady_clock::now() - begin < std::chrono::minutes(1); ++v)
        save_version(path, m, v);
      _exit(0);
    }
    std::this_thread::sleep_for(std::chrono::duration<double>(delay(rng)));
    ASSERT_EQ(kill(child, SIGKILL), 0);
    int status = 0;
    ASSERT_EQ(waitpid(child, &status, 0), child);
    ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << "the child ended on its own";

    int64_t v = -1;
    ASSERT_NO_THROW(v = load_version(path)) << "after kill " << k;
    EXPECT_GE(v, last) << "after kill " << k << " the checkpoint went back in time";
    last = v;

    for (const auto& entry : fs::directory_iterator(dir)) {
      const std::string name = entry.path().filename().string();
      if (name == "model.safetensors") continue;
      EXPECT_EQ(name.rfind("model.safetensors.tmp.", 0), 0u) << "unexpected file " << name;
      // A temporary is either incomplete, and then the loader rejects it, or a whole version.
      try {
        const int64_t tv = load_version(entry.path().string());
        EXPECT_GE(tv, start);
        ++complete_temporaries;
      } catch (const IoError&) {
        ++torn_temporaries;
      }
      fs::remove(entry.path());
    }
  }
  std::cout << "[ crash    ] " << kills << " kills, final version " << last << ", "
            << torn_temporaries << " torn and " << complete_temporaries
            << " complete temporaries left behind (save takes " << save_s * 1e3 << " ms)\n";
  // The kills did land in the middle of writes; otherwise the test would show nothing.
  EXPECT_GT(torn_temporaries, 0);
  fs::remove_all(dir);
}

}  // namespace
