#include "flare/io/safetensors.h"

#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "io/io_test_util.h"

namespace flare::io {
namespace {

using testing::TempDir;

Tensor iota(const Shape& s, DType t, double scale = 1.0) {
  std::vector<double> v(size_t(s.total()));
  for (size_t i = 0; i < v.size(); ++i) v[i] = (double(i) - 3.0) * scale;
  return Tensor::from(s, v, t);
}

void expect_same(const Tensor& a, const Tensor& b) {
  EXPECT_EQ(a.shape(), b.shape());
  EXPECT_EQ(a.dtype(), b.dtype());
  EXPECT_EQ(a.to_vector(), b.to_vector());
}

TEST(Safetensors, SerializeWritesTheDocumentedLayout) {
  const Tensor w = Tensor::from(Shape({2}), std::vector<float>{1.5f, -2.0f});
  const Tensor b = Tensor::from(Shape({1}), std::vector<double>{0.25}, DType::f64);
  const std::vector<uint8_t> bytes = serialize_safetensors({{"w", w}, {"b", b}}, {{"k", "v"}});
  ASSERT_GE(bytes.size(), 8u);
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | bytes[i];
  EXPECT_EQ(n % 8, 0u);  // data starts 8-byte aligned
  ASSERT_EQ(bytes.size(), 8 + n + 8 + 8);
  const auto h = nlohmann::json::parse(bytes.begin() + 8, bytes.begin() + 8 + n);
  EXPECT_EQ(h["w"]["dtype"], "F32");
  EXPECT_EQ(h["w"]["shape"], nlohmann::json::array({2}));
  EXPECT_EQ(h["w"]["data_offsets"], nlohmann::json::array({0, 8}));
  EXPECT_EQ(h["b"]["dtype"], "F64");
  EXPECT_EQ(h["b"]["data_offsets"], nlohmann::json::array({8, 16}));
  EXPECT_EQ(h["__metadata__"]["k"], "v");
  float f[2];
  std::memcpy(f, bytes.data() + 8 + n, 8);
  EXPECT_EQ(f[0], 1.5f);
  EXPECT_EQ(f[1], -2.0f);
  double d;
  std::memcpy(&d, bytes.data() + 8 + n + 8, 8);
  EXPECT_EQ(d, 0.25);
}

TEST(Safetensors, RoundTripKeepsOrderValuesAndMetadata) {
  TempDir dir;
  const NamedTensors in = {{"layer.weight", iota(Shape({3, 4}), DType::f32, 0.5)},
                           {"layer.bias", iota(Shape({4}), DType::f64, 1e-3)},
                           {"scalar", iota(Shape(), DType::f32)},
                           {"cube", iota(Shape({2, 1, 3, 2}), DType::f64)}};
  const Metadata meta = {{"format", "pt"}, {"epoch", "7"}};
  save_safetensors(dir.file("m.safetensors"), in, meta);
  const SafetensorsFile f = load_safetensors(dir.file("m.safetensors"));
  ASSERT_EQ(f.tensors.size(), in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    EXPECT_EQ(f.tensors[i].first, in[i].first);
    expect_same(f.tensors[i].second, in[i].second);
  }
  EXPECT_EQ(f.metadata, meta);
  EXPECT_TRUE(f.int_tensors.empty());
  expect_same(f.at("layer.bias"), in[1].second);
  EXPECT_EQ(f.find("nope"), nullptr);
  EXPECT_THROW(f.at("nope"), IndexError);
}

TEST(Safetensors, BatchIsTheLeadingDimension) {
  const Tensor batched = iota(Shape({2, 3}, 4), DType::f32);         // stored as [4,2,3]
  const Tensor batched4 = iota(Shape({1, 2, 1, 3}, 2), DType::f32);  // stored as [2,1,2,1,3]
  const auto bytes = serialize_safetensors({{"a", batched}, {"b", batched4}});
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | bytes[i];
  const auto h = nlohmann::json::parse(bytes.begin() + 8, bytes.begin() + 8 + n);
  EXPECT_EQ(h["a"]["shape"], nlohmann::json::array({4, 2, 3}));
  EXPECT_EQ(h["b"]["shape"], nlohmann::json::array({2, 1, 2, 1, 3}));
  const SafetensorsFile f = parse_safetensors(bytes.data(), bytes.size());
  // Rank <= 4 loads with batch 1; rank 5 gives the batch back.
  EXPECT_EQ(f.at("a").shape(), Shape({4, 2, 3}));
  EXPECT_EQ(f.at("a").to_vector(), batched.to_vector());
  expect_same(f.at("b"), batched4);
}

TEST(Safetensors, SaveRejectsBadNames) {
  const Tensor t = iota(Shape({2}), DType::f32);
  EXPECT_THROW(serialize_safetensors({{"a", t}, {"a", t}}), Error);
  EXPECT_THROW(serialize_safetensors({{"__metadata__", t}}), Error);
  EXPECT_THROW(serialize_safetensors({{std::string("\xff\xfe"), t}}), Error);
}

TEST(Safetensors, SaveReplacesAtomicallyAndLeavesNoTemporaries) {
  TempDir dir;
  const std::string path = dir.file("ckpt.safetensors");
  save_safetensors(path, {{"x", iota(Shape({2}), DType::f32)}});
  save_safetensors(path, {{"y", iota(Shape({3}), DType::f64)}});
  const SafetensorsFile f = load_safetensors(path);
  ASSERT_EQ(f.tensors.size(), 1u);
  EXPECT_EQ(f.tensors[0].first, "y");
  int files = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir.path())) {
    ++files;
    EXPECT_EQ(e.path().filename(), "ckpt.safetensors");
  }
  EXPECT_EQ(files, 1);

  // Failures name the path and leave nothing behind.
  EXPECT_IO_ERROR(save_safetensors(dir.file("no/such/dir/x.safetensors"), f.tensors),
                  "no/such/dir/x.safetensors: cannot create temporary file");
  std::filesystem::create_directory(dir.file("taken"));
  EXPECT_IO_ERROR(save_safetensors(dir.file("taken"), f.tensors), "taken: cannot rename");
  files = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir.path())) files += !e.is_directory();
  EXPECT_EQ(files, 1);
}

TEST(Safetensors, LoadNamesMissingFile) {
  EXPECT_IO_ERROR(load_safetensors("/nonexistent/m.safetensors"),
                  "/nonexistent/m.safetensors: cannot open");
}

}  // namespace
}  // namespace flare::io
