// Every way a safetensors file can be malformed gives an IoError naming the file and the
// problem, and nothing reads outside the buffer.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include "flare/io/safetensors.h"
#include "io/io_test_util.h"

namespace flare::io {
namespace {

using testing::TempDir;
using testing::write_file;

// A file with the given JSON header and data bytes.
std::vector<uint8_t> make(const std::string& header, const std::vector<uint8_t>& data = {}) {
  std::vector<uint8_t> out(8 + header.size() + data.size());
  const uint64_t n = header.size();
  for (int i = 0; i < 8; ++i) out[i] = uint8_t(n >> (8 * i));
  std::copy(header.begin(), header.end(), out.begin() + 8);
  std::copy(data.begin(), data.end(), out.begin() + 8 + long(n));
  return out;
}

std::vector<uint8_t> zeros(size_t n) { return std::vector<uint8_t>(n, 0); }

SafetensorsFile parse(const std::vector<uint8_t>& b) {
  return parse_safetensors(b.data(), b.size(), "m.st");
}

TEST(SafetensorsMalformed, FramingErrors) {
  EXPECT_IO_ERROR(parse({}), "m.st: file is 0 bytes, shorter than the 8-byte header length");
  EXPECT_IO_ERROR(parse({1, 0, 0}), "m.st: file is 3 bytes");
  std::vector<uint8_t> b = make("{}");
  b[0] = 3;
  EXPECT_IO_ERROR(parse(b), "m.st: header length 3 runs past the end of the file (10 bytes)");
  b[0] = 0xff;
  b[7] = 0xff;
  EXPECT_IO_ERROR(parse(b), "runs past the end of the file");
  EXPECT_NO_THROW(parse(make("{}")));
  EXPECT_NO_THROW(parse(make("  {}    ")));
}

TEST(SafetensorsMalformed, HeaderMustBeAJsonObject) {
  EXPECT_IO_ERROR(parse(make("{\"a\":")), "m.st: header is not valid JSON");
  EXPECT_IO_ERROR(parse(make("")), "m.st: header is not valid JSON");
  EXPECT_IO_ERROR(parse(make(std::string("{}\0x", 4))),
                  "m.st: header holds a NUL byte at offset 2; not valid JSON");
  EXPECT_IO_ERROR(parse(make("\"\xff\"")), "m.st: header is not valid JSON");
  EXPECT_IO_ERROR(parse(make("[1,2]")), "m.st: header is a JSON array, not an object");
  EXPECT_IO_ERROR(parse(make("7")), "m.st: header is a JSON number, not an object");
  EXPECT_IO_ERROR(parse(make(R"({"x": 1})")), "m.st: tensor 'x': header entry is not an object");
}

TEST(SafetensorsMalformed, EntryFieldErrors) {
  const auto data = zeros(8);
  auto e = [&](const std::string& fields) {
    return parse(make("{\"x\": {" + fields + "}}", data));
  };
  EXPECT_IO_ERROR(e(R"("shape": [2], "data_offsets": [0, 8])"), "m.st: tensor 'x': missing dtype");
  EXPECT_IO_ERROR(e(R"("dtype": 4, "shape": [2], "data_offsets": [0, 8])"),
                  "tensor 'x': dtype is not a string");
  EXPECT_IO_ERROR(e(R"("dtype": "C64", "shape": [1], "data_offsets": [0, 8])"),
                  "tensor 'x': unsupported dtype 'C64'");
  EXPECT_IO_ERROR(e(R"("dtype": "F32", "data_offsets": [0, 8])"), "tensor 'x': missing shape");
  EXPECT_IO_ERROR(e(R"("dtype": "F32", "shape": 2, "data_offsets": [0, 8])"),
                  "tensor 'x': shape is not an array");
  EXPECT_IO_ERROR(e(R"("dtype": "F32", "shape": [-2], "data_offsets": [0, 8])"),
                  "tensor 'x': shape holds -2, not a size");
  EXPECT_IO_ERROR(e(R"("dtype": "F32", "shape": [2.0], "data_offsets": [0, 8])"),
                  "tensor 'x': shape holds 2.0, not a size");
  EXPECT_IO_ERROR(e(R"("dtype": "F32", "shape": ["2"], "data_offsets": [0, 8])"), "not a size");
  EXPECT_IO_ERROR(e(R"("dtype": "F32", "shape": [1,1,1,1,1,2], "data_offsets": [0, 8])"),
                  "tensor 'x': shape has 6 dims; flare reads at most 5");
  EXPECT_IO_ERROR(e(R"("dtype": "F32", "shape": [2])"), "tensor 'x': missing data_offsets");
  EXPECT_IO_ERROR(e(R"("dtype": "F32", "shape": [2], "data_offsets": [0])"),
                  "tensor 'x': data_offsets must be two non-negative integers, got [0]");
  EXPECT_IO_ERROR(e(R"("dtype": "F32", "shape": [2], "data_offsets": [0, 8, 9])"),
                  "data_offsets must be two");
  EXPECT_IO_ERROR(e(R"("dtype": "F32", "shape": [2], "data_offsets": [-1, 8])"),
                  "data_offsets must be two");
  EXPECT_IO_ERROR(e(R"("dtype": "F32", "shape": [2], "data_offsets": {"a": 1})"),
                  "data_offsets must be two");
  EXPECT_IO_ERROR(e(R"("dtype": "F32", "shape": [2], "data_offsets": [8, 0])"),
                  "tensor 'x': data_offsets [8, 0] are out of order");
  EXPECT_IO_ERROR(
      e(R"("dtype": "F32", "shape": [3], "data_offsets": [0, 8])"),
      "tensor 'x': data_offsets [0, 8] hold 8 bytes but dtype F32 and shape [3] need 12");
  EXPECT_IO_ERROR(e(R"("dtype": "F64", "shape": [2], "data_offsets": [0, 8])"), "need 16");
  EXPECT_IO_ERROR(e(R"("dtype": "F32", "shape": [4294967296, 4294967296], "data_offsets": [0, 8])"),
                  "tensor 'x': shape [4294967296,4294967296] is too large");
  EXPECT_IO_ERROR(e(R"("dtype": "F32", "shape": [0, 2], "data_offsets": [0, 0])"),
                  "tensor 'x': shape [0,2] has a zero-sized dimension");
  // Unknown extra fields are ignored, as in the reference implementation.
  EXPECT_NO_THROW(e(R"("dtype": "F32", "shape": [2], "data_offsets": [0, 8], "extra": null)"));
}

TEST(SafetensorsMalformed, LayoutErrors) {
  auto two = [](const std::string& a, const std::string& b, size_t n) {
    return parse(make(R"({"a": {"dtype": "F32", "shape": [1], "data_offsets": )" + a +
                          R"(}, "b": {"dtype": "F32", "shape": [1], "data_offsets": )" + b + "}}",
                      zeros(n)));
  };
  EXPECT_NO_THROW(two("[0, 4]", "[4, 8]", 8));
  EXPECT_NO_THROW(two("[4, 8]", "[0, 4]", 8));
  EXPECT_IO_ERROR(two("[0, 4]", "[2, 6]", 8),
                  "m.st: tensor 'b': data_offsets overlap those of 'a'");
  EXPECT_IO_ERROR(two("[0, 4]", "[0, 4]", 8), "overlap");
  EXPECT_IO_ERROR(two("[0, 4]", "[6, 10]", 10),
                  "m.st: tensor 'b': gap of 2 bytes in the data section before this tensor");
  EXPECT_IO_ERROR(two("[4, 8]", "[8, 12]", 12), "tensor 'a': gap of 4 bytes");
  EXPECT_IO_ERROR(two("[0, 4]", "[4, 8]", 6),
                  "m.st: tensor 'b': data_offsets end at 8, past the data section (6 bytes)");
  EXPECT_IO_ERROR(two("[0, 4]", "[4, 8]", 9),
                  "m.st: data section is 9 bytes but the tensors cover 8");
  EXPECT_IO_ERROR(parse(make("{}", zeros(3))),
                  "m.st: data section is 3 bytes but the tensors cover 0");
  EXPECT_IO_ERROR(two("[0, 18446744073709551615]", "[4, 8]", 8), "hold");
}

TEST(SafetensorsMalformed, DuplicateNamesAndMetadata) {
  EXPECT_IO_ERROR(parse(make(R"({"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]},
                                 "a": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}})",
                             zeros(8))),
                  "m.st: header names 'a' more than once");
  // Repeated keys inside an entry or inside metadata are not top-level names.
  EXPECT_NO_THROW(parse(make(R"({"__metadata__": {"k": "v", "k": "w"},
                                 "a": {"dtype": "F32", "dtype": "F32", "shape": [1],
                                       "data_offsets": [0, 4]}})",
                             zeros(4))));
  EXPECT_IO_ERROR(parse(make(R"({"__metadata__": [1]})")), "m.st: __metadata__ is not an object");
  EXPECT_IO_ERROR(parse(make(R"({"__metadata__": {"epoch": 3}})")),
                  "m.st: __metadata__ value of 'epoch' is not a string");
  const auto f = parse(make(R"({"__metadata__": {"epoch": "3", "format": "pt"}})"));
  EXPECT_EQ(f.metadata.at("epoch"), "3");
  EXPECT_EQ(f.metadata.size(), 2u);
}

TEST(SafetensorsMalformed, LoadNamesThePath) {
  TempDir dir;
  const std::string path = dir.file("short.safetensors");
  write_file(path, "abc");
  EXPECT_IO_ERROR(load_safetensors(path), path + ": file is 3 bytes");
}

// Every truncation and many single-byte corruptions of a valid file either load or throw
// IoError; under a sanitizer build this also checks that nothing reads out of bounds.
TEST(SafetensorsMalformed, TruncationsAndCorruptionsNeverCrash) {
  const Tensor a = Tensor::from(Shape({2, 3}), std::vector<float>{1, 2, 3, 4, 5, 6});
  const Tensor b = Tensor::from(Shape({2}, 3), std::vector<double>{1, 2, 3, 4, 5, 6}, DType::f64);
  const std::vector<uint8_t> good = serialize_safetensors({{"a", a}, {"b", b}}, {{"k", "v"}});
  auto try_parse = [](const std::vector<uint8_t>& bytes) {
    // A private copy of exactly the right size, so an over-read is a real out-of-bounds access.
    std::unique_ptr<uint8_t[]> buf(new uint8_t[bytes.size() + 1]);
    if (!bytes.empty()) std::memcpy(buf.get(), bytes.data(), bytes.size());
    try {
      parse_safetensors(buf.get(), bytes.size(), "fuzz");
    } catch (const IoError&) {
    }
  };
  for (size_t n = 0; n < good.size(); ++n)
    try_parse(std::vector<uint8_t>(good.begin(), good.begin() + n));
  uint64_t state = 0x9e3779b97f4a7c15ull;
  auto next = [&] {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state;
  };
  for (int i = 0; i < 20000; ++i) {
    std::vector<uint8_t> m = good;
    const int flips = 1 + int(next() % 3);
    for (int k = 0; k < flips; ++k) {
      const size_t at = next() % m.size();
      // Bias towards the header and towards digits, which make structurally valid variants.
      m[at] = (next() % 2) ? uint8_t('0' + next() % 10) : uint8_t(next());
    }
    try_parse(m);
  }
}

TEST(SafetensorsMalformed, ReadsHalfPrecisionAndIntegers) {
  // F16: 1, -2, 0.5, 2^-24 (smallest subnormal), inf. BF16: 1, -0.5.
  const uint16_t f16[] = {0x3C00, 0xC000, 0x3800, 0x0001, 0x7C00};
  const uint16_t bf16[] = {0x3F80, 0xBF00};
  const int32_t i32[] = {-1, 2, 2147483647};
  const int8_t i8[] = {-128, 5};
  const uint8_t u8[] = {255, 0};
  std::vector<uint8_t> data;
  auto put = [&](const void* p, size_t n) {
    data.insert(data.end(), (const uint8_t*)p, (const uint8_t*)p + n);
  };
  put(f16, sizeof f16);
  put(bf16, sizeof bf16);
  put(i32, sizeof i32);
  put(i8, sizeof i8);
  put(u8, sizeof u8);
  const auto f = parse(make(R"({
      "h": {"dtype": "F16", "shape": [5], "data_offsets": [0, 10]},
      "bh": {"dtype": "BF16", "shape": [2], "data_offsets": [10, 14]},
      "i": {"dtype": "I32", "shape": [3], "data_offsets": [14, 26]},
      "c": {"dtype": "I8", "shape": [1, 2], "data_offsets": [26, 28]},
      "u": {"dtype": "U8", "shape": [2], "data_offsets": [28, 30]}})",
                            data));
  const std::vector<double> h = f.at("h").to_vector();
  EXPECT_EQ(f.at("h").dtype(), DType::f32);
  EXPECT_EQ(h[0], 1.0);
  EXPECT_EQ(h[1], -2.0);
  EXPECT_EQ(h[2], 0.5);
  EXPECT_EQ(h[3], std::ldexp(1.0, -24));
  EXPECT_TRUE(std::isinf(h[4]));
  EXPECT_EQ(f.at("bh").to_vector(), (std::vector<double>{1.0, -0.5}));
  ASSERT_EQ(f.int_tensors.size(), 3u);
  EXPECT_EQ(f.int_tensors[0].first, "i");
  EXPECT_EQ(f.int_tensors[0].second.values, (std::vector<int64_t>{-1, 2, 2147483647}));
  EXPECT_EQ(f.int_tensors[1].second.shape, (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(f.int_tensors[1].second.values, (std::vector<int64_t>{-128, 5}));
  EXPECT_EQ(f.int_tensors[2].second.values, (std::vector<int64_t>{255, 0}));
}

}  // namespace
}  // namespace flare::io
