#include <gtest/gtest.h>

#include <sstream>

#include "flare/flare.h"

namespace flare {
namespace {

TEST(Shape, PrintsDimsAndBatch) {
  EXPECT_EQ(Shape({2, 3}, 8).str(), "[2,3]x8");
  EXPECT_EQ(Shape{4}.str(), "[4]");
  EXPECT_EQ(Shape({2, 3, 4}).size(), 24);
  EXPECT_EQ(Shape({2, 3}, 5).total(), 30);
  EXPECT_THROW(Shape({1, 2, 3, 4, 5}), ShapeError);
  EXPECT_EQ(Shape({2, 3, 4}).without_dim(1), Shape({2, 4}));
  EXPECT_EQ(Shape({2, 3}).axis(-1, "t"), 1);
  EXPECT_THROW(Shape({2, 3}).axis(2, "t"), ShapeError);
}

TEST(Tensor, CreatesViewsAndPrints) {
  Tensor t = Tensor::from(Shape{2, 3}, {1, 2, 3, 4, 5, 6});
  EXPECT_EQ(t.at(4), 5.0);
  Tensor r = t.rows(1, 2);
  EXPECT_EQ(r.shape(), Shape({1, 3}));
  EXPECT_EQ(r.to_vector(), (std::vector<double>{4, 5, 6}));
  r.fill(0);  // a view: the original changes
  EXPECT_EQ(t.at(3), 0.0);
  Tensor v = t.reshape(Shape{3, 2});
  EXPECT_EQ(v.data(), t.data());
  EXPECT_THROW(t.reshape(Shape{4}), ShapeError);
  EXPECT_EQ(Tensor::from(Shape{2}, {5, 7}).str(), "[5, 7]");
  std::ostringstream os;
  os << Tensor::from(Shape({2}, 2), {1, 2, 3, 4});
  EXPECT_EQ(os.str(), "tensor({[1, 2], [3, 4]}, shape=[2]x2, float32)");
  Tensor d = t.to(DType::f64);
  EXPECT_EQ(d.dtype(), DType::f64);
  EXPECT_EQ(d.to_vector(), t.to_vector());
  EXPECT_THROW(t.data<double>(), Error);
  EXPECT_THROW(Tensor::from(Shape{3}, {1, 2}), ShapeError);
}

TEST(Device, ParsesNames) {
  EXPECT_EQ(Device::parse("cpu"), Device::cpu());
  EXPECT_EQ(Device::parse("cuda:1"), Device::cuda(1));
  EXPECT_THROW(Device::parse("tpu"), Error);
  EXPECT_TRUE(device_available(Device::cpu()));
}

// flare/cuda_stats.h links and answers in every build. Without a usable GPU, asking for a
// device's memory fails naming the device (and without the CUDA backend nothing was ever
// queued); with one, the allocator's figures add up and empty_cache() empties its cache.
TEST(Device, CudaStatsAnswerInEveryBuild) {
  if (device_available(Device::cuda(0))) {
    const cuda::MemoryStats s = cuda::memory_stats(0);
    EXPECT_EQ(s.reserved, s.in_use + s.cached);
    cuda::empty_cache(0);
    EXPECT_EQ(cuda::memory_stats(0).cached, 0u);
    return;
  }
  try {
    cuda::memory_stats(0);
    ADD_FAILURE() << "memory_stats(0) returned without a GPU";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("cuda:0"), std::string::npos) << e.what();
  }
  EXPECT_THROW(cuda::empty_cache(0), Error);
#ifndef FLARE_WITH_CUDA
  const cuda::QueueStats q = cuda::queue_stats();
  EXPECT_EQ(q.kernels + q.copies + q.blas + q.waits, 0u);
#endif
}

}  // namespace
}  // namespace flare
