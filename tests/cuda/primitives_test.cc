// Every CUDA backend primitive against the CPU backend on the same inputs, at sizes that take
// the multi-block paths (grid-stride loops, chunked and atomic reductions, tiled transposes,
// index lists larger than the staging buffers) that the small op samples never reach.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>

#include "cuda_test_util.h"

namespace flare {
namespace {

using cudatest::close;
using cudatest::gpu;

std::vector<double> rnd(int64_t n, uint64_t seed, double lo = -1, double hi = 1) {
  std::mt19937_64 gen(seed);
  std::uniform_real_distribution<double> u(lo, hi);
  std::vector<double> v(static_cast<size_t>(n));
  for (double& x : v) x = u(gen);
  return v;
}

// The same values on the CPU (c) and on cuda:0 (g).
struct Pair {
  Tensor c, g;
  std::vector<double> cpu() const { return c.to_vector(); }
  std::vector<double> dev() const { return g.to_vector(); }
};

Pair make(DType t, const std::vector<double>& v) {
  Tensor c = Tensor::from(Shape{int64_t(v.size())}, v, t);
  return {c, c.to(gpu())};
}

// Runs f(backend, P) on the CPU and on the GPU, where P(pair) is that device's pointer.
template <typename F>
void both(F&& f) {
  f(backend(Device::cpu()), [](const Pair& p) { return p.c.data(); });
  f(backend(gpu()), [](const Pair& p) { return p.g.data(); });
}

// Tolerances: element-wise math differs by an ulp or two between libm, SLEEF and CUDA; sums
// also differ in their order of additions.
double ew_tol(DType t) { return t == DType::f32 ? 2e-5 : 1e-12; }
double sum_tol(DType t) { return t == DType::f32 ? 2e-3 : 1e-8; }

class CudaPrimitives : public ::testing::TestWithParam<DType> {
 protected:
  void SetUp() override { FLARE_REQUIRE_CUDA(); }
  DType t() const { return GetParam(); }
};

INSTANTIATE_TEST_SUITE_P(Types, CudaPrimitives, ::testing::Values(DType::f32, DType::f64),
                         [](const auto& info) { return std::string(dtype_name(info.param)); });

TEST_P(CudaPrimitives, FillCopyAxpy) {
  const int64_t n = 100003;
  Pair x = make(t(), rnd(n, 1)), y = make(t(), rnd(n, 2));
  both([&](Backend& be, auto P) { be.axpy(t(), P(y), P(x), n, -0.3); });
  EXPECT_TRUE(close(y.dev(), y.cpu(), ew_tol(t())));
  // Overlapping copy (memmove semantics): shift the array by 7 elements to the right.
  both([&](Backend& be, auto P) {
    char* base = static_cast<char*>(P(y));
    be.copy(t(), base + 7 * dtype_size(t()), base, n - 7);
  });
  EXPECT_TRUE(close(y.dev(), y.cpu(), 0));
  both([&](Backend& be, auto P) { be.fill(t(), P(x), n - 1, 3.5); });
  EXPECT_TRUE(close(x.dev(), x.cpu(), 0));
  both([&](Backend& be, auto P) { be.fill(t(), P(x), 11, 0.0); });
  EXPECT_TRUE(close(x.dev(), x.cpu(), 0));
}

TEST_P(CudaPrimitives, CopySegments) {
  // 700 segments of 0-60 elements at disjoint destinations, sources anywhere (read more than
  // once), copied and accumulated; then destinations that overlap, which must add in order.
  const int64_t n = 50000;
  const size_t es = dtype_size(t());
  Pair x = make(t(), rnd(n, 40)), y = make(t(), rnd(n, 41));
  std::mt19937_64 gen(42);
  std::vector<int64_t> len, src_at, dst_at;
  for (int64_t at = 0; len.size() < 700; ) {
    len.push_back(int64_t(gen() % 61));
    src_at.push_back(int64_t(gen() % uint64_t(n - 60)));
    dst_at.push_back(at);
    at += len.back() + int64_t(gen() % 5);
  }
  for (bool accumulate : {false, true}) {
    for (bool overlapping : {false, true}) {
      std::vector<int64_t> d = dst_at;
      if (overlapping) d[5] = d[3], d[9] = d[3] + 1;
      both([&](Backend& be, auto P) {
        char* yb = static_cast<char*>(P(y));
        const char* xb = static_cast<const char*>(P(x));
        std::vector<void*> dst;
        std::vector<const void*> src;
        for (size_t i = 0; i < len.size(); ++i) {
          dst.push_back(yb + size_t(d[i]) * es);
          src.push_back(xb + size_t(src_at[i]) * es);
        }
        be.copy_segments(t(), dst.data(), src.data(), len.data(), int64_t(len.size()), accumulate);
      });
      EXPECT_TRUE(close(y.dev(), y.cpu(), accumulate ? ew_tol(t()) : 0)) << accumulate << overlapping;
    }
  }
}

TEST_P(CudaPrimitives, LstmStepAndGradients) {
  // Hidden 300 (past the CPU kernel's chunk) over 67 examples: more elements than one block.
  // The LSTM layout with zero and one previous states, and a Tree-LSTM node's (five blocks,
  // o before g) with two.
  const int64_t h = 300, batch = 67;
  const LstmGates tree{/*blocks*/ 5, /*i*/ 0, /*g*/ 4, /*o*/ 3, /*f*/ {1, 2}};
  for (const LstmGates& L : {LstmGates{}, tree}) {
    Pair a = make(t(), rnd(L.blocks * h * batch, 31, -4, 4));
    Pair c0 = make(t(), rnd(h * batch, 32, -2, 2)), c1 = make(t(), rnd(h * batch, 33, -2, 2));
    Pair dy = make(t(), rnd(h * batch, 34));
    for (LstmPart part : {LstmPart::State, LstmPart::Output}) {
      for (int states = 0; states <= 2; ++states) {
        if (part == LstmPart::Output && states != 1) continue;  // the output reads one state
        if (states == 2 && L.f[1] < 0) continue;
        Pair y = make(t(), rnd(h * batch, 35)), da = make(t(), rnd(L.blocks * h * batch, 36));
        Pair dc0 = make(t(), rnd(h * batch, 37)), dc1 = make(t(), rnd(h * batch, 38));
        both([&](Backend& be, auto P) {
          const void* p0 = states > 0 ? P(c0) : nullptr;
          const void* p1 = states > 1 ? P(c1) : nullptr;
          be.lstm(part, t(), P(y), P(a), p0, p1, L, batch, h);
          be.lstm_grad(part, t(), P(da), states > 0 ? P(dc0) : nullptr, states > 1 ? P(dc1) : nullptr, P(a), p0, p1,
                       P(dy), L, batch, h);
        });
        EXPECT_TRUE(close(y.dev(), y.cpu(), ew_tol(t())));
        EXPECT_TRUE(close(da.dev(), da.cpu(), ew_tol(t())));
        EXPECT_TRUE(close(dc0.dev(), dc0.cpu(), ew_tol(t())));
        EXPECT_TRUE(close(dc1.dev(), dc1.cpu(), ew_tol(t())));
      }
    }
  }
}

TEST_P(CudaPrimitives, UnaryAndGradients) {
  const int64_t n = 100003;
  for (int fi = 0; fi < int(Unary::Count); ++fi) {
    const Unary f = Unary(fi);
    const bool positive = f == Unary::Log || f == Unary::Sqrt;
    Pair x = make(t(), positive ? rnd(n, 3, 0.1, 4) : rnd(n, 3, -3, 3));
    Pair y = make(t(), std::vector<double>(size_t(n), 0.0));
    both([&](Backend& be, auto P) { be.unary(f, t(), P(y), P(x), n, 0.7); });
    EXPECT_TRUE(close(y.dev(), y.cpu(), ew_tol(t()))) << "unary " << fi;
    // Gradients accumulate into dx; feed both devices the CPU's y so only the kernel differs.
    Pair yc = make(t(), y.cpu());
    Pair dy = make(t(), rnd(n, 4)), dx = make(t(), rnd(n, 5));
    both([&](Backend& be, auto P) { be.unary_grad(f, t(), P(dx), P(x), P(yc), P(dy), n, 0.7); });
    EXPECT_TRUE(close(dx.dev(), dx.cpu(), ew_tol(t()))) << "unary_grad " << fi;
  }
}

// Broadcasting patterns, each taking a different gradient path for one of the arguments.
struct BcastCase {
  const char* name;
  Bcast bc;
};

int64_t extent(int64_t batch, int64_t n, int64_t bs, int64_t es) {
  return (batch - 1) * bs + (n - 1) * es + 1;
}

TEST_P(CudaPrimitives, BinaryAndBroadcastGradients) {
  const std::vector<BcastCase> cases = {
      {"dense", {1, 100003, 0, 1, 0, 1}},
      {"b shared by 300 examples", {300, 777, 777, 1, 0, 1}},
      {"b shared by 5000 short examples", {5000, 3, 3, 1, 0, 1}},
      {"b one element per long example", {4, 10000, 10000, 1, 1, 0}},
      {"a one element for everything", {7, 50, 0, 0, 50, 1}},
      {"b one element, many blocks", {1, 200000, 0, 1, 0, 0}},
      {"both shared by the batch", {9, 20, 0, 1, 0, 1}},
  };
  for (const BcastCase& c : cases) {
    const Bcast& bc = c.bc;
    const int64_t na = extent(bc.batch, bc.n, bc.a_bs, bc.a_es);
    const int64_t nb = extent(bc.batch, bc.n, bc.b_bs, bc.b_es);
    const int64_t ny = bc.batch * bc.n;
    Pair a = make(t(), rnd(na, 6)), b = make(t(), rnd(nb, 7, 0.5, 2));
    Pair dy = make(t(), rnd(ny, 8));
    for (int fi = 0; fi < int(Binary::Count); ++fi) {
      const Binary f = Binary(fi);
      Pair y = make(t(), std::vector<double>(size_t(ny), 0.0));
      both([&](Backend& be, auto P) { be.binary(f, t(), P(y), P(a), P(b), bc); });
      ASSERT_TRUE(close(y.dev(), y.cpu(), ew_tol(t()))) << c.name << ", binary " << fi;
      Pair yc = make(t(), y.cpu());
      for (int arg = 0; arg < 2; ++arg) {
        Pair d = make(t(), rnd(arg == 0 ? na : nb, 9));
        both([&](Backend& be, auto P) {
          be.binary_grad(f, arg, t(), P(d), P(a), P(b), P(yc), P(dy), bc);
        });
        EXPECT_TRUE(close(d.dev(), d.cpu(), sum_tol(t())))
            << c.name << ", binary_grad " << fi << " arg " << arg;
      }
    }
  }
}

// Broadcast gradients and scatters sum many terms into one element through partial sums (no
// atomics): a second run from the same inputs gives the same bits.
TEST_P(CudaPrimitives, ReductionsRepeatBitForBit) {
  const Bcast columns{5000, 3, 3, 1, 0, 1}, rows{4, 10000, 10000, 1, 1, 0}, all{1, 200000, 0, 1, 0, 0};
  for (const Bcast& bc : {columns, rows, all}) {
    const int64_t na = extent(bc.batch, bc.n, bc.a_bs, bc.a_es);
    const int64_t nb = extent(bc.batch, bc.n, bc.b_bs, bc.b_es);
    Pair a = make(t(), rnd(na, 70)), b = make(t(), rnd(nb, 71, 0.5, 2));
    Pair dy = make(t(), rnd(bc.batch * bc.n, 72));
    const std::vector<double> d0 = rnd(nb, 73);
    std::vector<double> first;
    for (int run = 0; run < 2; ++run) {
      Pair d = make(t(), d0);
      backend(gpu()).binary_grad(Binary::Mul, 1, t(), d.g.data(), a.g.data(), b.g.data(), nullptr,
                                 dy.g.data(), bc);
      if (run == 0) first = d.dev();
      else EXPECT_EQ(d.dev(), first) << "batch " << bc.batch << " n " << bc.n;
    }
  }
  std::vector<int32_t> ids(100000);
  for (size_t i = 0; i < ids.size(); ++i) ids[i] = int32_t((i * 7919) % 13);
  Pair x = make(t(), rnd(int64_t(ids.size()) * 4, 74));
  std::vector<double> first;
  for (int run = 0; run < 2; ++run) {
    Pair table = make(t(), std::vector<double>(13 * 4, 0.5));
    backend(gpu()).scatter_add_rows(t(), table.g.data(), x.g.data(), ids.data(), int64_t(ids.size()), 4);
    if (run == 0) first = table.dev();
    else EXPECT_EQ(table.dev(), first) << "scatter";
  }
}

TEST_P(CudaPrimitives, Gemm) {
  struct Dims {
    int64_t m, n, k;
  };
  for (Dims d : {Dims{37, 29, 41}, Dims{1, 50, 33}, Dims{40, 1, 7}, Dims{64, 64, 1}, Dims{5, 6, 0}}) {
    for (int ta = 0; ta < 2; ++ta)
      for (int tb = 0; tb < 2; ++tb) {
        // Stored shapes: A is (ta ? k x m : m x k), B is (tb ? n x k : k x n); padded rows.
        const int64_t a_rows = ta ? d.k : d.m, a_cols = ta ? d.m : d.k;
        const int64_t b_rows = tb ? d.n : d.k, b_cols = tb ? d.k : d.n;
        const int64_t lda = a_cols + 3, ldb = b_cols + 2, ldc = d.n + 1;
        Pair a = make(t(), rnd(std::max<int64_t>(a_rows * lda, 1), 10));
        Pair b = make(t(), rnd(std::max<int64_t>(b_rows * ldb, 1), 11));
        Pair c = make(t(), rnd(d.m * ldc, 12));
        both([&](Backend& be, auto P) {
          be.gemm(t(), ta, tb, d.m, d.n, d.k, 0.7, P(a), lda, P(b), ldb, 0.3, P(c), ldc);
        });
        EXPECT_TRUE(close(c.dev(), c.cpu(), t() == DType::f32 ? 1e-4 : 1e-12))
            << "m=" << d.m << " n=" << d.n << " k=" << d.k << " ta=" << ta << " tb=" << tb;
      }
  }
}

TEST_P(CudaPrimitives, GemmBatched) {
  const int64_t m = 6, n = 5, k = 7, count = 9;
  Pair a = make(t(), rnd(m * k, 13));  // shared by every product (stride 0)
  Pair b = make(t(), rnd(count * k * n, 14));
  Pair c = make(t(), rnd(count * m * n, 15));
  both([&](Backend& be, auto P) {
    be.gemm_batched(t(), false, false, m, n, k, 1.0, P(a), k, 0, P(b), n, k * n, 0.5, P(c), n,
                    m * n, count);
  });
  const double tol = t() == DType::f32 ? 1e-4 : 1e-12;
  EXPECT_TRUE(close(c.dev(), c.cpu(), tol));
  // A shared C accumulates every product (the sum of a batch of weight gradients).
  Pair x = make(t(), rnd(count * m * k, 16)), dy = make(t(), rnd(count * m * n, 17));
  Pair dw = make(t(), rnd(k * n, 18));
  both([&](Backend& be, auto P) {
    be.gemm_batched(t(), true, false, k, n, m, 1.0, P(x), k, m * k, P(dy), n, m * n, 1.0, P(dw), n,
                    0, count);
  });
  EXPECT_TRUE(close(dw.dev(), dw.cpu(), tol));
}

TEST_P(CudaPrimitives, GerBatched) {
  // Rank-1 terms whose vectors sit anywhere in two buffers, some used twice.
  const int64_t m = 37, n = 29, count = 50, ldc = n + 3;
  Pair av = make(t(), rnd(m * 60, 60)), bv = make(t(), rnd(n * 60, 61));
  Pair c = make(t(), rnd(m * ldc, 62));
  auto ptrs = [&](const Pair& p, int64_t len, bool dev) {
    std::vector<const void*> v;
    for (int64_t i = 0; i < count; ++i) {
      const int64_t slot = (i * 7) % 60;
      v.push_back(static_cast<const char*>(dev ? p.g.data() : p.c.data()) +
                  slot * len * int64_t(dtype_size(t())));
    }
    return v;
  };
  const auto ac = ptrs(av, m, false), bc = ptrs(bv, n, false);
  const auto ag = ptrs(av, m, true), bg = ptrs(bv, n, true);
  backend(Device::cpu()).ger_batched(t(), m, n, 0.7, ac.data(), bc.data(), count, c.c.data(), ldc);
  backend(gpu()).ger_batched(t(), m, n, 0.7, ag.data(), bg.data(), count, c.g.data(), ldc);
  EXPECT_TRUE(close(c.dev(), c.cpu(), t() == DType::f32 ? 1e-5 : 1e-12));
}

TEST_P(CudaPrimitives, Transpose) {
  struct Case {
    int64_t rows, cols, count;
  };
  for (Case c : {Case{50, 70, 3}, Case{3, 5, 7}, Case{1, 9, 4}, Case{33, 1, 2}, Case{64, 32, 1}}) {
    for (bool acc : {false, true}) {
      const int64_t n = c.rows * c.cols * c.count;
      Pair x = make(t(), rnd(n, 19)), y = make(t(), rnd(n, 20));
      both([&](Backend& be, auto P) { be.transpose(t(), P(y), P(x), c.rows, c.cols, c.count, acc); });
      EXPECT_TRUE(close(y.dev(), y.cpu(), ew_tol(t())))
          << c.rows << "x" << c.cols << " count " << c.count << " acc " << acc;
    }
  }
}

struct View {
  int64_t outer, mid, inner;
};
const View kViews[] = {{7, 1000, 1}, {1, 100000, 1}, {5, 33, 9}, {100, 3, 1},
                       {3, 1, 4},    {2, 5000, 3},   {1000, 70, 1}};

// Values on a grid of quarters: maxima and minima repeat, so gradient routing to the first
// extremal position is exercised.
std::vector<double> with_ties(int64_t n, uint64_t seed) {
  std::vector<double> v = rnd(n, seed, -2, 2);
  for (double& x : v) x = std::round(x * 4) / 4;
  return v;
}

TEST_P(CudaPrimitives, ReduceAndGradients) {
  for (const View& v : kViews) {
    const int64_t n = v.outer * v.mid * v.inner, ny = v.outer * v.inner;
    for (int fi = 0; fi < int(Reduce::Count); ++fi) {
      const Reduce f = Reduce(fi);
      const bool extremum = f == Reduce::Max || f == Reduce::Min;
      Pair x = make(t(), extremum ? with_ties(n, 21) : rnd(n, 21));
      Pair y = make(t(), std::vector<double>(size_t(ny), 0.0));
      both([&](Backend& be, auto P) { be.reduce(f, t(), P(y), P(x), v.outer, v.mid, v.inner); });
      // Max and Min pick one of the inputs: exact. Sum and LogSumExp add in another order.
      ASSERT_TRUE(close(y.dev(), y.cpu(), extremum ? 0.0 : sum_tol(t())))
          << "reduce " << fi << " view " << v.outer << "," << v.mid << "," << v.inner;
      Pair yc = make(t(), y.cpu());
      Pair dy = make(t(), rnd(ny, 22)), dx = make(t(), rnd(n, 23));
      both([&](Backend& be, auto P) {
        be.reduce_grad(f, t(), P(dx), P(x), P(yc), P(dy), v.outer, v.mid, v.inner, 0.5);
      });
      EXPECT_TRUE(close(dx.dev(), dx.cpu(), ew_tol(t())))
          << "reduce_grad " << fi << " view " << v.outer << "," << v.mid << "," << v.inner;
    }
  }
}

TEST_P(CudaPrimitives, SoftmaxAndGradients) {
  for (const View& v : kViews) {
    const int64_t n = v.outer * v.mid * v.inner;
    for (bool log : {false, true}) {
      Pair x = make(t(), rnd(n, 24, -5, 5));
      Pair y = make(t(), std::vector<double>(size_t(n), 0.0));
      both([&](Backend& be, auto P) { be.softmax(t(), P(y), P(x), v.outer, v.mid, v.inner, log); });
      ASSERT_TRUE(close(y.dev(), y.cpu(), sum_tol(t())))
          << "softmax log=" << log << " view " << v.outer << "," << v.mid << "," << v.inner;
      Pair yc = make(t(), y.cpu());
      Pair dy = make(t(), rnd(n, 25)), dx = make(t(), rnd(n, 26));
      both([&](Backend& be, auto P) {
        be.softmax_grad(t(), P(dx), P(yc), P(dy), v.outer, v.mid, v.inner, log);
      });
      EXPECT_TRUE(close(dx.dev(), dx.cpu(), sum_tol(t())))
          << "softmax_grad log=" << log << " view " << v.outer << "," << v.mid << "," << v.inner;
    }
  }
}

TEST_P(CudaPrimitives, Copy2d) {
  struct Case {
    int64_t rows, cols, ldy, ldx;
  };
  for (Case c : {Case{13, 7, 10, 9}, Case{1, 50, 50, 60}, Case{20, 8, 8, 8}, Case{300, 1, 3, 2}}) {
    for (bool acc : {false, true}) {
      Pair x = make(t(), rnd(c.rows * c.ldx, 27)), y = make(t(), rnd(c.rows * c.ldy, 28));
      both([&](Backend& be, auto P) {
        be.copy_2d(t(), P(y), c.ldy, P(x), c.ldx, c.rows, c.cols, acc);
      });
      EXPECT_TRUE(close(y.dev(), y.cpu(), ew_tol(t())))
          << c.rows << "x" << c.cols << " ldy " << c.ldy << " ldx " << c.ldx << " acc " << acc;
    }
  }
}

TEST_P(CudaPrimitives, GatherAndScatterRows) {
  const int64_t rows = 50, row = 17;
  for (int64_t n : {int64_t(5), int64_t(1000), int64_t(300000)}) {
    std::vector<int32_t> ids(static_cast<size_t>(n));
    std::mt19937 gen(29);
    for (auto& id : ids) id = int32_t(gen() % rows);
    ids[0] = 3;
    if (n > 1) ids[1] = 3;  // repeats must accumulate
    Pair table = make(t(), rnd(rows * row, 30));
    Pair y = make(t(), std::vector<double>(size_t(n * row), 0.0));
    both([&](Backend& be, auto P) { be.gather_rows(t(), P(y), P(table), ids.data(), n, row); });
    EXPECT_TRUE(close(y.dev(), y.cpu(), 0)) << "gather n=" << n;
    Pair x = make(t(), rnd(n * row, 31));
    both([&](Backend& be, auto P) { be.scatter_add_rows(t(), P(table), P(x), ids.data(), n, row); });
    // Repeated ids are added in their given order, as on the CPU: the same bits.
    EXPECT_TRUE(close(table.dev(), table.cpu(), 0)) << "scatter n=" << n;
  }
  // Back-to-back gathers with different index lists: each kernel must see its own list.
  std::vector<int32_t> first = {1, 2, 3}, second = {7, 7, 0};
  Pair table = make(t(), rnd(rows * row, 32));
  Pair y1 = make(t(), std::vector<double>(size_t(3 * row), 0.0)), y2 = make(t(), y1.cpu());
  both([&](Backend& be, auto P) {
    be.gather_rows(t(), P(y1), P(table), first.data(), 3, row);
    be.gather_rows(t(), P(y2), P(table), second.data(), 3, row);
  });
  EXPECT_TRUE(close(y1.dev(), y1.cpu(), 0));
  EXPECT_TRUE(close(y2.dev(), y2.cpu(), 0));
}

TEST_P(CudaPrimitives, RandomStreamsMatchTheCpu) {
  const int64_t n = 100003;
  const struct {
    Dist d;
    double a, b;
  } cases[] = {{Dist::Uniform, -2, 3}, {Dist::Normal, 1, 2}, {Dist::Bernoulli, 0.3, 1 / 0.7}};
  for (const auto& c : cases) {
    Pair y = make(t(), std::vector<double>(size_t(n), 0.0));
    both([&](Backend& be, auto P) { be.random(c.d, t(), P(y), n, c.a, c.b, 1234, 99); });
    EXPECT_TRUE(close(y.dev(), y.cpu(), t() == DType::f32 ? 1e-6 : 1e-12)) << int(c.d);
  }
}

TEST_P(CudaPrimitives, AllFinite) {
  const int64_t n = 1000001;
  std::vector<double> v = rnd(n, 33);
  EXPECT_TRUE(backend(gpu()).all_finite(t(), make(t(), v).g.data(), n));
  v[size_t(n - 1)] = std::numeric_limits<double>::quiet_NaN();
  EXPECT_FALSE(backend(gpu()).all_finite(t(), make(t(), v).g.data(), n));
  v[size_t(n - 1)] = 0;
  v[size_t(n / 2)] = std::numeric_limits<double>::infinity();
  EXPECT_FALSE(backend(gpu()).all_finite(t(), make(t(), v).g.data(), n));
  EXPECT_TRUE(backend(gpu()).all_finite(t(), make(t(), v).g.data(), n / 2));
}

// ---- Fused optimizer kernels, dense and over touched rows ----

struct OptimArrays {
  Pair w, g, s1, s2;
};

OptimArrays optim_arrays(DType t, int64_t n) {
  return {make(t, rnd(n, 40)), make(t, rnd(n, 41)), make(t, rnd(n, 42, 0, 1)),
          make(t, rnd(n, 43, 0, 1))};
}

void expect_same(const OptimArrays& o, DType t, const char* what) {
  const double tol = t == DType::f32 ? 1e-5 : 1e-12;
  EXPECT_TRUE(close(o.w.dev(), o.w.cpu(), tol)) << what << ": values";
  EXPECT_TRUE(close(o.s1.dev(), o.s1.cpu(), tol)) << what << ": first state";
  EXPECT_TRUE(close(o.s2.dev(), o.s2.cpu(), tol)) << what << ": second state";
}

TEST_P(CudaPrimitives, OptimizerUpdates) {
  const int64_t rows = 40, row = 33;
  const std::vector<int32_t> touched = {3, 17, 0, 39, 8};
  const UpdateRange ranges[] = {UpdateRange::dense(100003),
                                UpdateRange::of_rows(touched.data(), 5, row)};
  for (const UpdateRange& r : ranges) {
    const int64_t n = r.sparse() ? rows * row : r.n;
    const char* kind = r.sparse() ? "rows" : "dense";
    for (int variant = 0; variant < 4; ++variant) {
      SgdStep s;
      s.lr = 0.1;
      s.momentum = variant == 0 ? 0.0 : 0.9;
      s.nesterov = variant == 2;
      s.first = variant == 1;
      s.dampening = variant == 3 ? 0.1 : 0.0;
      s.weight_decay = 0.01;
      OptimArrays o = optim_arrays(t(), n);
      both([&](Backend& be, auto P) { be.sgd_update(t(), P(o.w), P(o.g), P(o.s1), r, s); });
      expect_same(o, t(), (std::string("sgd variant ") + std::to_string(variant) + " " + kind).c_str());
    }
    {
      AdagradStep s{0.05, 1e-10, 0.01};
      OptimArrays o = optim_arrays(t(), n);
      both([&](Backend& be, auto P) { be.adagrad_update(t(), P(o.w), P(o.g), P(o.s1), r, s); });
      expect_same(o, t(), kind);
    }
    {
      AdadeltaStep s{1.0, 0.9, 1e-6, 0.01};
      OptimArrays o = optim_arrays(t(), n);
      both([&](Backend& be, auto P) {
        be.adadelta_update(t(), P(o.w), P(o.g), P(o.s1), P(o.s2), r, s);
      });
      expect_same(o, t(), kind);
    }
    for (bool decoupled : {false, true}) {
      AdamStep s;
      s.lr = 1e-3;
      s.beta1 = 0.9;
      s.beta2 = 0.999;
      s.eps = 1e-8;
      s.weight_decay = 0.01;
      s.bias1 = 1 - std::pow(0.9, 3);  // step 3
      s.bias2 = 1 - std::pow(0.999, 3);
      s.decoupled = decoupled;
      OptimArrays o = optim_arrays(t(), n);
      both([&](Backend& be, auto P) {
        be.adam_update(t(), P(o.w), P(o.g), P(o.s1), P(o.s2), r, s);
      });
      expect_same(o, t(), decoupled ? "adamw" : "adam");
    }
    {
      OptimArrays o = optim_arrays(t(), n);
      const double cpu = backend(Device::cpu()).sum_squares(t(), o.g.c.data(), r);
      const double dev = backend(gpu()).sum_squares(t(), o.g.g.data(), r);
      EXPECT_NEAR(dev, cpu, 1e-10 * cpu) << "sum_squares " << kind;
      both([&](Backend& be, auto P) { be.scale(t(), P(o.w), r, 0.37); });
      EXPECT_TRUE(close(o.w.dev(), o.w.cpu(), ew_tol(t()))) << "scale " << kind;
    }
  }
}

}  // namespace
}  // namespace flare
