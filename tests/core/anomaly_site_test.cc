// Anomaly detection names where the offending node was created: the location label set on the
// graph at that time and the call stack of its creation (checked against a known function).
#include <dlfcn.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <functional>
#include <string>

#include "flare/flare.h"

namespace {
using namespace flare;

// Creates log(x) for an x with a negative element: the NaN node whose site the tests check.
// Kept out of line so that its return address is one frame of the recorded stack.
__attribute__((noinline)) Expr make_log_of_negative(Graph& g) {
  Expr x = g.input(Shape{2}, {1, -1});
  Expr y = log(x);
  asm volatile("" ::: "memory");  // no tail call: this frame stays on the stack
  return y;
}

std::string anomaly_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const AnomalyError& e) {
    return e.what();
  }
  return "";
}

TEST(AnomalySite, NamesTheLocationLabelActiveAtCreation) {
  Graph g;
  g.set_check_finite(true);
  g.set_location("encoder/layer1");
  const std::string msg = anomaly_of([&] { make_log_of_negative(g); });
  ASSERT_NE(msg, "");
  EXPECT_NE(msg.find("non-finite value from node 1 (log, shape [2])"), std::string::npos) << msg;
  EXPECT_NE(msg.find("node created in encoder/layer1, at:"), std::string::npos) << msg;
}

TEST(AnomalySite, GradientReportNamesTheLabelOfThatNode) {
  Graph g;
  g.set_check_finite(true);
  g.set_location("embed");
  Expr x = g.input(Shape{2}, {0, 1}, /*requires_grad=*/true);
  g.set_location("head");
  Expr y = sum(sqrt(x));  // finite forward; d sqrt(x)/dx = inf at x = 0
  g.set_location("later");
  const std::string msg = anomaly_of([&] { g.backward(y); });
  EXPECT_NE(msg.find("non-finite gradient of node 0 (input, shape [2])"), std::string::npos) << msg;
  EXPECT_NE(msg.find("node created in embed, at:"), std::string::npos) << msg;
}

TEST(AnomalySite, StackHoldsTheCreatingFunction) {
  Graph g;
  g.set_check_finite(true);
  const std::string msg = anomaly_of([&] { make_log_of_negative(g); });
  ASSERT_NE(msg.find("node created at:"), std::string::npos) << msg;
  // Some frame must point into make_log_of_negative: either by symbol, or as module+offset
  // within a few KiB of the function's start (its size under any optimisation or sanitizer).
  Dl_info info{};
  ASSERT_TRUE(dladdr(reinterpret_cast<void*>(&make_log_of_negative), &info));
  const uintptr_t start = reinterpret_cast<uintptr_t>(&make_log_of_negative) -
                          reinterpret_cast<uintptr_t>(info.dli_fbase);
  bool found = msg.find("make_log_of_negative") != std::string::npos;
  for (size_t at = msg.find("+0x"); at != std::string::npos; at = msg.find("+0x", at + 3)) {
    const uintptr_t off = std::stoull(msg.substr(at + 3, 16), nullptr, 16);
    if (off >= start && off < start + 4096) found = true;
  }
  EXPECT_TRUE(found) << "function at +0x" << std::hex << start << " not in:\n" << msg;
}

TEST(AnomalySite, NothingRecordedWithTheCheckOff) {
  Graph g;
  g.set_location("x");
  Expr y = make_log_of_negative(g);
  EXPECT_EQ(g.creation_site(y.id()), "");
  g.set_check_finite(true);
  Expr z = g.input(Shape{1}, {1.0f});
  EXPECT_NE(g.creation_site(z.id()).find("in x, at:"), std::string::npos);
  g.clear();
  EXPECT_EQ(g.creation_site(0), "");
}

TEST(AnomalySite, GlobalSwitchRecordsSitesForNewGraphs) {
  set_detect_anomaly(true);
  Graph g;
  set_detect_anomaly(false);
  g.set_location("global");
  const std::string msg = anomaly_of([&] { make_log_of_negative(g); });
  EXPECT_NE(msg.find("node created in global, at:"), std::string::npos) << msg;
}

}  // namespace
