// Round trip with PyTorch through tests/io/safetensors_interop.py, which has its own reader and
// writer (Debian ships no python3-safetensors). Skips when /usr/bin/python3 or torch is missing.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>

#include "flare/io/safetensors.h"
#include "io/io_test_util.h"

namespace flare::io {
namespace {

using testing::TempDir;

TEST(SafetensorsInterop, PyTorchReadsFlareAndFlareReadsPyTorch) {
#ifndef FLARE_SOURCE_DIR
  GTEST_SKIP() << "FLARE_SOURCE_DIR not defined; cannot find the interop script";
#else
  if (!std::filesystem::exists("/usr/bin/python3")) GTEST_SKIP() << "/usr/bin/python3 not found";
  TempDir dir;
  std::vector<float> w(6);
  for (int i = 0; i < 6; ++i) w[i] = (float(i) - 3) * 0.5f;
  save_safetensors(
      dir.file("flare.safetensors"),
      {{"w", Tensor::from(Shape({2, 3}), w)},
       {"b",
        Tensor::from(Shape({4}), std::vector<double>{0.1, -1e-300, 1e300, 1.0 / 3.0}, DType::f64)},
       {"batched", Tensor::from(Shape({3}, 2), std::vector<float>{0, 1, 2, 3, 4, 5})}},
      {{"producer", "flare"},
       {"note",
        "\xc3\xbcn\xc3\xaf"
        "code"}});

  const std::string cmd = "/usr/bin/python3 " FLARE_SOURCE_DIR
                          "/tests/io/safetensors_interop.py '" +
                          dir.path().string() + "' 2>&1";
  FILE* p = ::popen(cmd.c_str(), "r");
  ASSERT_NE(p, nullptr);
  std::string out;
  char buf[512];
  while (size_t n = std::fread(buf, 1, sizeof buf, p)) out.append(buf, n);
  const int status = ::pclose(p);
  ASSERT_TRUE(WIFEXITED(status)) << out;
  if (WEXITSTATUS(status) == 77) GTEST_SKIP() << "python check skipped: " << out;
  ASSERT_EQ(WEXITSTATUS(status), 0) << out;

  const SafetensorsFile f = load_safetensors(dir.file("torch.safetensors"));
  EXPECT_EQ(f.metadata, (Metadata{{"format", "pt"}}));
  ASSERT_EQ(f.tensors.size(), 5u);
  ASSERT_EQ(f.int_tensors.size(), 1u);

  const Tensor& weight = f.at("weight");
  EXPECT_EQ(weight.shape(), Shape({3, 4}));
  EXPECT_EQ(weight.dtype(), DType::f32);
  for (int i = 0; i < 12; ++i) EXPECT_EQ(weight.at(i), i / 8.0);

  EXPECT_EQ(f.at("double").dtype(), DType::f64);
  EXPECT_EQ(f.at("double").shape(), Shape({1, 2}));
  EXPECT_EQ(f.at("double").to_vector(), (std::vector<double>{1e-300, -2.5}));

  EXPECT_EQ(f.at("half").dtype(), DType::f32);
  EXPECT_EQ(f.at("half").to_vector(), (std::vector<double>{0.5, -3.0, 65504.0}));
  EXPECT_EQ(f.at("bf").to_vector(), (std::vector<double>{1.0, -0.5, 3.0}));

  const Tensor& five = f.at("five");
  EXPECT_EQ(five.shape(), Shape({1, 2, 1, 3}, 2));
  for (int i = 0; i < 12; ++i) EXPECT_EQ(five.at(i), i);

  EXPECT_EQ(f.int_tensors[0].first, "ids");
  EXPECT_EQ(f.int_tensors[0].second.shape, (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(f.int_tensors[0].second.values, (std::vector<int64_t>{-5, 7}));
#endif
}

}  // namespace
}  // namespace flare::io
