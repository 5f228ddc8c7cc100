#pragma once
// Shared by the CUDA tests: skipping where there is no GPU, and CPU-vs-CUDA comparisons.
// Every test that needs a GPU starts with FLARE_REQUIRE_CUDA(), so on a machine without one
// (or in a build without CUDA) they are reported as SKIPPED with the reason.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "flare/flare.h"

namespace flare::cudatest {

/// Why CUDA cannot be used here, or "" when it can.
inline std::string cuda_unavailable_reason() {
#ifndef FLARE_WITH_CUDA
  return "flare was built without CUDA (configure with -DFLARE_CUDA=ON)";
#else
  if (device_available(Device::cuda(0))) return "";
  try {
    backend(Device::cuda(0));
  } catch (const Error& e) {
    return e.what();
  }
  return "device_available(cuda:0) is false";
#endif
}

inline Device gpu() { return Device::cuda(0); }

/// |a - b| <= tol * (1 + |b|) element-wise, naming the first few mismatches.
inline ::testing::AssertionResult close(const std::vector<double>& a, const std::vector<double>& b,
                                        double tol) {
  if (a.size() != b.size())
    return ::testing::AssertionFailure() << "sizes differ: " << a.size() << " vs " << b.size();
  int bad = 0;
  ::testing::AssertionResult r = ::testing::AssertionFailure();
  for (size_t i = 0; i < a.size(); ++i) {
    const bool both_nan = std::isnan(a[i]) && std::isnan(b[i]);
    const bool same_inf = std::isinf(a[i]) && a[i] == b[i];
    if (both_nan || same_inf || std::fabs(a[i] - b[i]) <= tol * (1 + std::fabs(b[i]))) continue;
    if (bad < 5) r << "element " << i << ": " << a[i] << " vs " << b[i] << "; ";
    ++bad;
  }
  if (!bad) return ::testing::AssertionSuccess();
  return r << bad << " of " << a.size() << " elements differ by more than " << tol;
}

}  // namespace flare::cudatest

#define FLARE_REQUIRE_CUDA()                                                          \
  do {                                                                                \
    const std::string flare_reason_ = ::flare::cudatest::cuda_unavailable_reason();  \
    if (!flare_reason_.empty()) GTEST_SKIP() << "no CUDA device: " << flare_reason_; \
  } while (0)
