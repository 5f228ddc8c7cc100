// The CUDA device as seen through the public API: availability and its error messages, tensor
// copies between host and device, and the caching allocator's reuse.
#include <gtest/gtest.h>

#include <numeric>

#include "cuda_test_util.h"
#include "flare/flare.h"
#include "flare/nn/nn.h"
#include "flare/optim.h"
#ifdef FLARE_WITH_CUDA
#include "cuda/memory.h"
#endif

namespace flare {
namespace {

using cudatest::close;
using cudatest::gpu;

// Runs everywhere: the answer must match what the machine has.
TEST(CudaDevice, AvailabilityIsConsistentWithTheBackend) {
  bool threw = false;
  std::string msg;
  try {
    Backend& be = backend(gpu());
    EXPECT_EQ(be.device(), gpu());
  } catch (const Error& e) {
    threw = true;
    msg = e.what();
  }
  EXPECT_EQ(device_available(gpu()), !threw);
  if (threw) {
#ifdef FLARE_WITH_CUDA
    // Built with CUDA but no usable device: the error carries CUDA's own reason.
    EXPECT_NE(msg.find("cuda:0"), std::string::npos) << msg;
    EXPECT_TRUE(msg.find("CUDA is not available") != std::string::npos ||
                msg.find("no such device") != std::string::npos)
        << msg;
#else
    EXPECT_NE(msg.find("built without CUDA"), std::string::npos) << msg;
#endif
    // Asking again gives the same answer (nothing half-initialised is kept).
    EXPECT_THROW(backend(gpu()), Error);
    EXPECT_THROW(Tensor::zeros(Shape{3}, DType::f32, gpu()), Error);
  }
}

TEST(CudaDevice, MissingDeviceIndexIsAnError) {
  FLARE_REQUIRE_CUDA();
  try {
    backend(Device::cuda(4096));
    FAIL() << "cuda:4096 should not exist";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("cuda:4096: no such device"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(device_available(Device::cuda(4096)));
}

#ifdef FLARE_WITH_CUDA
TEST(CudaAllocator, SizeClasses) {
  // Pure arithmetic: runs without a GPU.
  EXPECT_EQ(cuda::size_class(0), 512u);
  EXPECT_EQ(cuda::size_class(1), 512u);
  EXPECT_EQ(cuda::size_class(513), 1024u);
  EXPECT_EQ(cuda::size_class(size_t(1) << 20), size_t(1) << 20);
  EXPECT_EQ(cuda::size_class((size_t(1) << 20) + 1), (size_t(1) << 20) + (size_t(1) << 17));
  EXPECT_EQ(cuda::size_class(size_t(3) << 20), size_t(3) << 20);
  for (size_t b : {size_t(700), size_t(5000), size_t(1) << 22, (size_t(1) << 22) + 12345,
                   size_t(100) << 20}) {
    const size_t c = cuda::size_class(b);
    EXPECT_GE(c, b);
    EXPECT_EQ(c % 512, 0u);
    if (b > (size_t(1) << 20)) {
      EXPECT_LE(double(c), double(b) * 1.125 + 1) << b;  // at most 1/8 wasted
    }
  }
}

TEST(CudaAllocator, FreedBlocksAreReused) {
  FLARE_REQUIRE_CUDA();
  Backend& be = backend(gpu());
  void* a = be.allocate(10000);
  const cuda::MemoryStats s0 = cuda::memory_stats(0);
  be.deallocate(a, 10000);
  // Same size class (16 KiB): the same block comes back without a cudaMalloc.
  void* b = be.allocate(9000);
  const cuda::MemoryStats s1 = cuda::memory_stats(0);
  EXPECT_EQ(a, b);
  EXPECT_EQ(s1.device_mallocs, s0.device_mallocs);
  EXPECT_EQ(s1.reuses, s0.reuses + 1);
  be.deallocate(b, 9000);
  // Unknown pointers are ignored (reported on stderr), never a crash.
  int host = 0;
  be.deallocate(&host, 4);
  be.deallocate(nullptr, 0);
}

TEST(CudaAllocator, TrainingLoopStopsCallingCudaMalloc) {
  FLARE_REQUIRE_CUDA();
  manual_seed(3);
  nn::Model m(DType::f32, gpu());
  nn::MLP mlp(m, {32, 64, 10});
  optim::Sgd opt(m.parameters(), optim::SgdOptions(0.1).momentum(0.9));
  Graph g(gpu());
  auto step = [&](int i) {
    g.clear();
    std::vector<float> x(32 * 8);
    for (size_t k = 0; k < x.size(); ++k) x[k] = float(std::sin(0.1 * double(k + i)));
    Expr in = g.input(Shape({32}, 8), x);
    Expr loss = sum_batch(pick_neg_log_softmax(mlp(in), {1, 2, 3, 4, 5, 6, 7, 8}));
    opt.zero_grad();
    g.backward(loss);
    opt.step();
    return loss.item();
  };
  for (int i = 0; i < 3; ++i) step(i);  // warm-up: the graph's arena and optimizer state grow
  const cuda::MemoryStats before = cuda::memory_stats(0);
  double first = 0, last = 0;
  for (int i = 0; i < 20; ++i) {
    const double l = step(i + 3);
    if (i == 0) first = l;
    last = l;
  }
  const cuda::MemoryStats after = cuda::memory_stats(0);
  EXPECT_EQ(after.device_mallocs, before.device_mallocs)
      << "a steady training loop should be served from the cache";
  EXPECT_TRUE(std::isfinite(first) && std::isfinite(last));
}

TEST(CudaAllocator, EmptyCacheReturnsFreeBlocks) {
  FLARE_REQUIRE_CUDA();
  Backend& be = backend(gpu());
  void* p = be.allocate(size_t(8) << 20);
  be.deallocate(p, size_t(8) << 20);
  ASSERT_GE(cuda::memory_stats(0).cached, size_t(8) << 20);
  cuda::empty_cache(0);
  const cuda::MemoryStats s = cuda::memory_stats(0);
  EXPECT_EQ(s.cached, 0u);
  EXPECT_EQ(s.reserved, s.in_use);
}

TEST(CudaAllocator, OutOfMemoryIsAnErrorAndTheDeviceStaysUsable) {
  FLARE_REQUIRE_CUDA();
  Backend& be = backend(gpu());
  const uint64_t retries = cuda::memory_stats(0).oom_retries;
  try {
    be.allocate(size_t(1) << 50);  // a petabyte
    FAIL() << "allocating 1 PiB should fail";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("cuda:0: cannot allocate"), std::string::npos) << e.what();
  }
  EXPECT_EQ(cuda::memory_stats(0).oom_retries, retries + 1);
  Tensor t = Tensor::full(Shape{5}, 2.5, DType::f32, gpu());
  EXPECT_EQ(t.to_vector(), std::vector<double>(5, 2.5));
}
#endif  // FLARE_WITH_CUDA

TEST(CudaTensor, RoundTripsBetweenHostAndDevice) {
  FLARE_REQUIRE_CUDA();
  for (DType t : {DType::f32, DType::f64}) {
    for (int64_t n : {int64_t(1), int64_t(7), int64_t(1000), int64_t(300001)}) {
      std::vector<double> v(static_cast<size_t>(n));
      for (int64_t i = 0; i < n; ++i) v[size_t(i)] = 0.25 * double(i % 1000) - 3;
      Tensor host = Tensor::from(Shape{n}, v, t);
      Tensor dev = host.to(gpu());
      EXPECT_EQ(dev.device(), gpu());
      EXPECT_EQ(dev.to_vector(), v) << dtype_name(t) << " n=" << n;
      EXPECT_EQ(dev.to(Device::cpu()).to_vector(), v);
      EXPECT_EQ(dev.at(n - 1), v.back());
    }
  }
}

TEST(CudaTensor, CopiesOnTheDeviceAndAcrossTypes) {
  FLARE_REQUIRE_CUDA();
  Tensor a = Tensor::from(Shape{2, 3}, {1, 2, 3, 4, 5, 6}, gpu());
  Tensor b = a.clone();  // device to device
  EXPECT_EQ(b.device(), gpu());
  a.fill(0);
  EXPECT_EQ(b.to_vector(), (std::vector<double>{1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(a.to_vector(), std::vector<double>(6, 0.0));
  Tensor d = b.to(DType::f64);  // type conversion of a device tensor stays on the device
  EXPECT_EQ(d.device(), gpu());
  EXPECT_EQ(d.dtype(), DType::f64);
  EXPECT_EQ(d.to_vector(), (std::vector<double>{1, 2, 3, 4, 5, 6}));
  Tensor e = Tensor::zeros(Shape{6}, DType::f32, gpu());
  e.copy_from(d);  // f64 device -> f32 device
  EXPECT_EQ(e.to_vector(), (std::vector<double>{1, 2, 3, 4, 5, 6}));
  Tensor rows = b.rows(1, 2);  // a view into device memory
  EXPECT_EQ(rows.to_vector(), (std::vector<double>{4, 5, 6}));
  EXPECT_EQ(Tensor::full(Shape{3}, -1.5, DType::f64, gpu()).to_vector(), std::vector<double>(3, -1.5));
}

TEST(CudaTensor, ParametersMoveWithTheirGradients) {
  FLARE_REQUIRE_CUDA();
  Parameter p("w", Tensor::from(Shape{3}, {1, 2, 3}));
  p.grad().fill(0.5);
  p.to(gpu());
  EXPECT_EQ(p.device(), gpu());
  EXPECT_EQ(p.grad().device(), gpu());
  EXPECT_EQ(p.value().to_vector(), (std::vector<double>{1, 2, 3}));
  EXPECT_EQ(p.grad().to_vector(), std::vector<double>(3, 0.5));
  Graph g(gpu());
  Expr y = sum(square(g.param(p)));
  p.zero_grad();
  g.backward(y);
  EXPECT_EQ(p.grad().to_vector(), (std::vector<double>{2, 4, 6}));
  EXPECT_DOUBLE_EQ(y.item(), 14.0);
  p.to(Device::cpu());
  EXPECT_EQ(p.grad().to_vector(), (std::vector<double>{2, 4, 6}));
}

TEST(CudaTensor, AGraphRejectsParametersOnAnotherDevice) {
  FLARE_REQUIRE_CUDA();
  Parameter p("w", Tensor::from(Shape{2}, {1, 2}));
  Graph g(gpu());
  EXPECT_THROW(g.param(p), Error);
}

TEST(CudaTensor, AnomalyDetectionSeesDeviceNaNs) {
  FLARE_REQUIRE_CUDA();
  Graph g(gpu());
  g.set_check_finite(true);
  Expr x = g.input(Shape{3}, {1.f, -1.f, 4.f});
  EXPECT_THROW(log(x), AnomalyError);  // log(-1) is NaN
}

}  // namespace
}  // namespace flare
