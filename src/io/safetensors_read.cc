#include <algorithm>
#include <cstring>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <unordered_set>

#include "flare/error.h"
#include "flare/io/safetensors.h"
#include "io/safetensors_dtype.h"
#include "io/text_util.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "flare's safetensors code assumes a little-endian host"
#endif

namespace flare::io {
namespace detail {

const StDType* find_st_dtype(const std::string& name) {
  static const StDType table[] = {
      {"F32", StKind::f32, 4},   {"F64", StKind::f64, 8},  {"F16", StKind::f16, 2},
      {"BF16", StKind::bf16, 2}, {"I8", StKind::sint, 1},  {"I16", StKind::sint, 2},
      {"I32", StKind::sint, 4},  {"I64", StKind::sint, 8}, {"U8", StKind::uint, 1},
      {"U16", StKind::uint, 2},  {"U32", StKind::uint, 4}, {"BOOL", StKind::boolean, 1},
  };
  for (const auto& d : table)
    if (name == d.name) return &d;
  return nullptr;
}

}  // namespace detail

namespace {

using json = nlohmann::ordered_json;
using detail::StDType;
using detail::StKind;

// flare keeps 4 dims per example; a 5th, leading one is the batch.
constexpr size_t kMaxRank = 5;

struct Entry {
  std::string name;
  const StDType* dtype;
  std::vector<uint64_t> shape;
  uint64_t begin, end;
};

bool is_float(StKind k) {
  return k == StKind::f32 || k == StKind::f64 || k == StKind::f16 || k == StKind::bf16;
}

std::string shape_str(const std::vector<uint64_t>& s) {
  std::string out = "[";
  for (size_t i = 0; i < s.size(); ++i) out += (i ? "," : "") + std::to_string(s[i]);
  return out + "]";
}

float half_to_float(uint16_t h) {
  const uint32_t sign = uint32_t(h & 0x8000u) << 16;
  const uint32_t exp = (h >> 10) & 0x1fu;
  const uint32_t mant = h & 0x3ffu;
  uint32_t bits;
  if (exp == 0) {
    // Zero or subnormal: mant * 2^-24 is exact in float.
    float f = float(mant) * (1.0f / 16777216.0f);
    std::memcpy(&bits, &f, 4);
    bits |= sign;
  } else if (exp == 31) {
    bits = sign | 0x7f800000u | (mant << 13);
  } else {
    bits = sign | ((exp + 112) << 23) | (mant << 13);
  }
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

class Parser {
 public:
  Parser(const uint8_t* data, size_t n, const std::string& name) : p_(data), n_(n), name_(name) {}

  SafetensorsFile run() {
    if (n_ < 8)
      fail("file is " + std::to_string(n_) + " bytes, shorter than the 8-byte header length");
    uint64_t hlen = 0;
    for (int i = 7; i >= 0; --i) hlen = (hlen << 8) | p_[i];
    if (hlen > n_ - 8)
      fail("header length " + std::to_string(hlen) + " runs past the end of the file (" +
           std::to_string(n_) + " bytes)");
    const json header = parse_header(reinterpret_cast<const char*>(p_ + 8), size_t(hlen));
    data_ = p_ + 8 + hlen;
    data_size_ = n_ - 8 - size_t(hlen);

    SafetensorsFile out;
    std::vector<Entry> entries;
    for (const auto& [key, value] : header.items()) {
      if (key == "__metadata__") {
        out.metadata = metadata(value);
      } else {
        entries.push_back(entry(key, value));
      }
    }
    check_layout(&entries);
    for (const auto& e : entries) {
      if (is_float(e.dtype->kind)) {
        out.tensors.emplace_back(e.name, tensor(e));
      } else {
        out.int_tensors.emplace_back(e.name, int_array(e));
      }
    }
    return out;
  }

 private:
  [[noreturn]] void fail(const std::string& what) const { throw IoError(name_ + ": " + what); }
  [[noreturn]] void fail(const std::string& tensor, const std::string& what) const {
    throw IoError(name_ + ": tensor " + detail::quote(tensor) + ": " + what);
  }

  json parse_header(const char* h, size_t len) const {
    // Repeated top-level names would silently replace each other in the parsed object.
    std::unordered_set<std::string> seen;
    std::string dup;
    auto check_dups = [&](int depth, json::parse_event_t ev, json& parsed) {
      if (depth == 1 && ev == json::parse_event_t::key && dup.empty()) {
        const auto& k = parsed.get_ref<const std::string&>();
        if (!seen.insert(k).second) dup = k;
      }
      return true;
    };
    // nlohmann stops at a NUL byte as if the input ended, which would hide trailing junk.
    if (const void* z = std::memchr(h, 0, len))
      fail("header holds a NUL byte at offset " + std::to_string(static_cast<const char*>(z) - h) +
           "; not valid JSON");
    json j;
    try {
      j = json::parse(h, h + len, check_dups);
    } catch (const json::exception& e) {
      fail(std::string("header is not valid JSON: ") + e.what());
    }
    if (!j.is_object()) fail(std::string("header is a JSON ") + j.type_name() + ", not an object");
    if (!dup.empty()) fail("header names " + detail::quote(dup) + " more than once");
    return j;
  }

  Metadata metadata(const json& m) const {
    if (!m.is_object()) fail("__metadata__ is not an object");
    Metadata out;
    for (const auto& [k, v] : m.items()) {
      if (!v.is_string()) fail("__metadata__ value of " + detail::quote(k) + " is not a string");
      out.emplace(k, v.get<std::string>());
    }
    return out;
  }

  Entry entry(const std::string& key, const json& v) const {
    if (!v.is_object()) fail(key, "header entry is not an object");
    Entry e{key, nullptr, {}, 0, 0};
    auto dt = v.find("dtype");
    if (dt == v.end()) fail(key, "missing dtype");
    if (!dt->is_string()) fail(key, "dtype is not a string");
    e.dtype = detail::find_st_dtype(dt->get<std::string>());
    if (e.dtype == nullptr)
      fail(key, "unsupported dtype " + detail::quote(dt->get<std::string>()) +
                    " (flare reads F32, F64, F16, BF16, I8-I64, U8-U32, BOOL)");
    auto sh = v.find("shape");
    if (sh == v.end()) fail(key, "missing shape");
    if (!sh->is_array()) fail(key, "shape is not an array");
    if (sh->size() > kMaxRank)
      fail(key, "shape has " + std::to_string(sh->size()) + " dims; flare reads at most " +
                    std::to_string(kMaxRank) + " (4 per example plus a leading batch)");
    for (const auto& d : *sh) {
      if (!d.is_number_unsigned()) fail(key, "shape holds " + d.dump() + ", not a size");
      e.shape.push_back(d.get<uint64_t>());
    }
    if (is_float(e.dtype->kind))
      for (uint64_t d : e.shape)
        if (d == 0) fail(key, "shape " + shape_str(e.shape) + " has a zero-sized dimension");
    auto off = v.find("data_offsets");
    if (off == v.end()) fail(key, "missing data_offsets");
    if (!off->is_array() || off->size() != 2 || !(*off)[0].is_number_unsigned() ||
        !(*off)[1].is_number_unsigned())
      fail(key, "data_offsets must be two non-negative integers, got " + off->dump());
    e.begin = (*off)[0].get<uint64_t>();
    e.end = (*off)[1].get<uint64_t>();
    if (e.end < e.begin)
      fail(key, "data_offsets [" + std::to_string(e.begin) + ", " + std::to_string(e.end) +
                    "] are out of order");
    uint64_t bytes = e.dtype->size;
    for (uint64_t d : e.shape)
      if (__builtin_mul_overflow(bytes, d, &bytes))
        fail(key, "shape " + shape_str(e.shape) + " is too large");
    if (e.end - e.begin != bytes)
      fail(key, "data_offsets [" + std::to_string(e.begin) + ", " + std::to_string(e.end) +
                    "] hold " + std::to_string(e.end - e.begin) + " bytes but dtype " +
                    e.dtype->name + " and shape " + shape_str(e.shape) + " need " +
                    std::to_string(bytes));
    return e;
  }

  // The data section must be covered exactly, tensor after tensor, as the format requires.
  void check_layout(std::vector<Entry>* entries) const {
    std::stable_sort(entries->begin(), entries->end(), [](const Entry& a, const Entry& b) {
      return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
    });
    uint64_t cursor = 0;
    const Entry* prev = nullptr;
    for (const auto& e : *entries) {
      if (e.begin < cursor)
        fail(e.name, "data_offsets overlap those of " + detail::quote(prev->name));
      if (e.begin > cursor)
        fail(e.name, "gap of " + std::to_string(e.begin - cursor) +
                         " bytes in the data section before this tensor");
      if (e.end > data_size_)
        fail(e.name, "data_offsets end at " + std::to_string(e.end) + ", past the data section (" +
                         std::to_string(data_size_) + " bytes)");
      cursor = e.end;
      prev = &e;
    }
    if (cursor != data_size_)
      fail("data section is " + std::to_string(data_size_) + " bytes but the tensors cover " +
           std::to_string(cursor));
  }

  Tensor tensor(const Entry& e) const {
    int64_t dims[kMaxRank];
    for (size_t i = 0; i < e.shape.size(); ++i) dims[i] = int64_t(e.shape[i]);
    const bool batched = e.shape.size() == kMaxRank;
    Shape s;
    try {
      s = batched ? Shape::of(dims + 1, int(kMaxRank) - 1, dims[0])
                  : Shape::of(dims, int(e.shape.size()));
    } catch (const Error& err) {
      fail(e.name, std::string("invalid shape: ") + err.what());
    }
    const uint8_t* src = data_ + e.begin;
    const size_t count = size_t(s.total());
    switch (e.dtype->kind) {
      case StKind::f32:
      case StKind::f64: {
        Tensor t = Tensor::empty(s, e.dtype->kind == StKind::f32 ? DType::f32 : DType::f64);
        std::memcpy(t.data(), src, e.end - e.begin);
        return t;
      }
      case StKind::f16:
      case StKind::bf16: {
        Tensor t = Tensor::empty(s, DType::f32);
        float* dst = t.data<float>();
        for (size_t i = 0; i < count; ++i) {
          uint16_t h;
          std::memcpy(&h, src + 2 * i, 2);
          if (e.dtype->kind == StKind::f16) {
            dst[i] = half_to_float(h);
          } else {
            const uint32_t bits = uint32_t(h) << 16;
            std::memcpy(dst + i, &bits, 4);
          }
        }
        return t;
      }
      default:
        fail(e.name, "not a floating-point dtype");  // unreachable: run() routes by is_float
    }
  }

  IntArray int_array(const Entry& e) const {
    IntArray a;
    size_t count = 1;
    for (uint64_t d : e.shape) {
      a.shape.push_back(int64_t(d));
      count *= size_t(d);
    }
    a.values.resize(count);
    const uint8_t* src = data_ + e.begin;
    const size_t w = e.dtype->size;
    const bool sign = e.dtype->kind == StKind::sint;
    for (size_t i = 0; i < count; ++i) {
      uint64_t u = 0;
      std::memcpy(&u, src + i * w, w);  // little-endian: the low bytes
      if (sign && w < 8 && (u >> (8 * w - 1)) != 0) u |= ~uint64_t(0) << (8 * w);
      a.values[i] = int64_t(u);
    }
    return a;
  }

  const uint8_t* p_;
  size_t n_;
  const std::string& name_;
  const uint8_t* data_ = nullptr;
  size_t data_size_ = 0;
};

}  // namespace

const Tensor* SafetensorsFile::find(const std::string& name) const {
  for (const auto& [k, t] : tensors)
    if (k == name) return &t;
  return nullptr;
}

const Tensor& SafetensorsFile::at(const std::string& name) const {
  if (const Tensor* t = find(name)) return *t;
  std::string names;
  for (const auto& kv : tensors) names += (names.empty() ? "" : ", ") + kv.first;
  throw IndexError("safetensors: no tensor " + detail::quote(name) + " (have: " + names + ")");
}

SafetensorsFile parse_safetensors(const uint8_t* data, size_t n, const std::string& name) {
  if (data == nullptr && n != 0) throw IoError(name + ": null buffer");
  return Parser(data, n, name).run();
}

SafetensorsFile load_safetensors(const std::string& path) {
  auto in = detail::open_input(path, /*binary=*/true);
  in.seekg(0, std::ios::end);
  const std::streamoff size = in.tellg();
  in.seekg(0, std::ios::beg);
  if (size < 0 || !in) throw IoError(path + ": cannot determine the file size");
  std::vector<uint8_t> bytes(static_cast<size_t>(size));
  in.read(reinterpret_cast<char*>(bytes.data()), size);
  if (in.gcount() != size) throw IoError(path + ": read failed");
  return parse_safetensors(bytes.data(), bytes.size(), path);
}

}  // namespace flare::io
