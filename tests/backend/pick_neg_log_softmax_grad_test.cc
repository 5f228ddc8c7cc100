// The CPU backend's fused backward of pick_neg_log_softmax against the composition it replaces
// (fill, scatter_add_rows, negation, log-softmax's softmax_grad): bit for bit in float (the
// vectorised rows, with labels in the eight-lane blocks and in the tail), to an ulp in double,
// with zero and negative-zero upstream gradients; and against the formula in double.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <type_traits>
#include <vector>

#include "flare/backend.h"

namespace flare {
namespace {

template <typename T>
struct Case {
  int64_t batch, classes;
  std::vector<T> logp, dy, dx0;
  std::vector<int32_t> pos;
};

template <typename T>
Case<T> make_case(Backend& be, int64_t batch, int64_t classes, std::mt19937& gen) {
  std::uniform_real_distribution<double> u(-3, 3);
  Case<T> c{batch, classes, {}, {}, {}, {}};
  std::vector<T> x(size_t(batch * classes));
  for (T& v : x) v = T(u(gen));
  c.logp.resize(x.size());
  be.softmax(dtype_of<T>::value, c.logp.data(), x.data(), batch, classes, 1, true);
  const T special[] = {T(0), T(-0.0), T(1.5), T(-2.25)};
  for (int64_t b = 0; b < batch; ++b) {
    c.dy.push_back(b < 4 ? special[b] : T(u(gen)));
    // First, last, and anywhere between (a block or the tail).
    const int64_t label = b % 3 == 0 ? 0 : b % 3 == 1 ? classes - 1 : int64_t(gen() % uint64_t(classes));
    c.pos.push_back(int32_t(b * classes + label));
  }
  c.dx0.resize(x.size());
  for (T& v : c.dx0) v = T(u(gen));
  if (!c.dx0.empty()) c.dx0[0] = T(-0.0);
  return c;
}

template <typename T>
void check(DType t) {
  Backend& be = backend(Device::cpu());
  std::mt19937 gen(29);
  for (int64_t classes : {1, 2, 5, 7, 8, 9, 13, 16, 64, 300, 1001})
    for (int64_t batch : {1, 3, 6}) {
      SCOPED_TRACE(std::string(dtype_name(t)) + ", " + std::to_string(batch) + " x " + std::to_string(classes));
      const Case<T> c = make_case<T>(be, batch, classes, gen);
      const size_t n = c.logp.size();
      std::vector<T> fused = c.dx0, composed = c.dx0, g(n);
      ASSERT_TRUE(be.pick_neg_log_softmax_grad(t, fused.data(), c.logp.data(), c.dy.data(), c.pos.data(), batch,
                                               classes));
      be.fill(t, g.data(), int64_t(n), 0.0);
      be.scatter_add_rows(t, g.data(), c.dy.data(), c.pos.data(), batch, 1);
      be.unary(Unary::Neg, t, g.data(), g.data(), int64_t(n), 0);
      be.softmax_grad(t, composed.data(), c.logp.data(), g.data(), batch, classes, 1, true);
      if (std::is_same_v<T, float>) {
        EXPECT_EQ(std::memcmp(fused.data(), composed.data(), n * sizeof(T)), 0);
      } else {
        // The plain loop may round once where the composition rounds twice (the compiler fuses
        // dx - e * s for the non-label classes): an ulp of the operands at most.
        for (size_t i = 0; i < n; ++i) {
          const double operands = std::fabs(double(c.dx0[i])) + std::fabs(double(c.dy[i / size_t(classes)]));
          EXPECT_NEAR(double(fused[i]), double(composed[i]), 2.3e-16 * operands) << i;
        }
      }
      // And the formula: dx += dy * (softmax - onehot(label)).
      for (int64_t b = 0; b < batch; ++b)
        for (int64_t k = 0; k < classes; ++k) {
          const size_t i = size_t(b * classes + k);
          const double want = double(c.dx0[i]) + double(c.dy[size_t(b)]) *
                                                     (std::exp(double(c.logp[i])) - (int64_t(c.pos[size_t(b)]) == int64_t(i)));
          EXPECT_NEAR(double(fused[i]), want, (std::is_same_v<T, float> ? 2e-6 : 1e-14) * (1 + std::fabs(want)));
        }
    }
}

TEST(PickNegLogSoftmaxGrad, FusedEqualsComposedFloat) { check<float>(DType::f32); }
TEST(PickNegLogSoftmaxGrad, FusedEqualsComposedDouble) { check<double>(DType::f64); }

}  // namespace
}  // namespace flare
