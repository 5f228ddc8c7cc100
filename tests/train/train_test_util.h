#pragma once
// Helpers shared by the train tests: a temporary directory and a tiny classifier with a dense
// layer and a sparse embedding table, trained on generated data.
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <string>
#include <vector>

#include "flare/flare.h"

namespace flare::train::testing {

/// A fresh directory under the system temp dir, removed with its contents on destruction.
class TempDir {
 public:
  TempDir() {
    static std::atomic<int> counter{0};
    path_ = std::filesystem::temp_directory_path() /
            ("flare_train_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

/// scores = W * E[id] + b, loss = -log softmax(scores)[label]. E is sparse.
struct TinyModel {
  static constexpr int64_t kVocab = 10, kDim = 4, kClasses = 3;
  Parameter E, W, b;

  /// Values depend on `seed`, so two models with different seeds differ everywhere.
  explicit TinyModel(uint64_t seed)
      : E("embed.E", values(Shape{kVocab, kDim}, seed)),
        W("out.W", values(Shape{kClasses, kDim}, seed + 1)),
        b("out.b", values(Shape{kClasses}, seed + 2)) {
    E.set_sparse(true);
  }
  std::vector<Parameter*> params() { return {&E, &W, &b}; }

  /// Forward and backward for one example (gradients accumulate); returns the loss.
  double backprop(Graph& g, int32_t id, int32_t label) {
    g.clear();
    Expr h = lookup(g, E, id);
    Expr s = affine({g.param(b), g.param(W), h});
    Expr loss = pick_neg_log_softmax(s, label);
    g.backward(loss);
    return loss.item();
  }

  static Tensor values(const Shape& s, uint64_t seed) {
    std::vector<double> v(static_cast<size_t>(s.total()));
    uint64_t x = seed * 0x9E3779B97F4A7C15ull + 1;
    for (double& e : v) {
      x ^= x << 13, x ^= x >> 7, x ^= x << 17;
      e = double(x % 2001) / 1000.0 - 1.0;
    }
    return Tensor::from(s, v, DType::f32);
  }
};

/// Example i of a fixed generated stream: (id, label).
inline std::pair<int32_t, int32_t> tiny_example(int64_t i) {
  const int32_t id = int32_t((i * 7 + 3) % TinyModel::kVocab);
  return {id, int32_t((id + i / 5) % TinyModel::kClasses)};
}

}  // namespace flare::train::testing
