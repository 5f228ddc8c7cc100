#include <gtest/gtest.h>

#include <cmath>

#include "flare/error.h"
#include "flare/optim/scheduler.h"
#include "flare/optim/sgd.h"

namespace flare::optim {
namespace {

struct Fixture {
  Parameter p{"p", Tensor::zeros(Shape{1})};
  Sgd opt{{&p}, SgdOptions(1.0)};
};

std::vector<double> lrs(Scheduler& s, Optimizer& opt, int n) {
  std::vector<double> out{opt.lr()};
  for (int i = 1; i < n; ++i) {
    s.step();
    out.push_back(opt.lr());
  }
  return out;
}

TEST(Scheduler, StepLR) {
  Fixture f;
  StepLR s(f.opt, 2, 0.5);
  EXPECT_EQ(lrs(s, f.opt, 6), (std::vector<double>{1, 1, 0.5, 0.5, 0.25, 0.25}));
  EXPECT_THROW(StepLR(f.opt, 0), Error);
}

TEST(Scheduler, ExponentialLR) {
  Fixture f;
  f.opt.set_lr(2.0);
  ExponentialLR s(f.opt, 0.5);
  EXPECT_EQ(lrs(s, f.opt, 4), (std::vector<double>{2, 1, 0.5, 0.25}));
}

TEST(Scheduler, CosineWithWarmup) {
  Fixture f;
  CosineWarmupLR s(f.opt, 2, 6, 0.0);
  const double r = std::sqrt(0.5);
  const std::vector<double> want = {0.5, 1, 1, (1 + r) / 2, 0.5, (1 - r) / 2, 0, 0};
  const std::vector<double> got = lrs(s, f.opt, 8);
  for (size_t i = 0; i < want.size(); ++i) EXPECT_NEAR(got[i], want[i], 1e-15) << "t = " << i;
}

TEST(Scheduler, CosineToAFloorWithoutWarmup) {
  Fixture f;
  CosineWarmupLR s(f.opt, 0, 2, 0.1);
  const std::vector<double> got = lrs(s, f.opt, 4);
  EXPECT_NEAR(got[0], 1.0, 1e-15);
  EXPECT_NEAR(got[1], 0.55, 1e-15);
  EXPECT_NEAR(got[2], 0.1, 1e-15);
  EXPECT_NEAR(got[3], 0.1, 1e-15);
  EXPECT_THROW(CosineWarmupLR(f.opt, 3, 3), Error);
}

TEST(Scheduler, ResumesFromACount) {
  Fixture f;
  StepLR s(f.opt, 1, 0.1);
  s.set_last_step(3);
  EXPECT_EQ(s.last_step(), 3);
  EXPECT_NEAR(f.opt.lr(), 1e-3, 1e-18);
  EXPECT_DOUBLE_EQ(s.base_lr(), 1.0);
  EXPECT_THROW(s.set_last_step(-1), Error);
}

}  // namespace
}  // namespace flare::optim
