#pragma once
/// Element types. float32 is the default; float64 is used for gradient checks.
#include <cstddef>
#include <cstdint>
#include <string>

namespace flare {

enum class DType : uint8_t { f32, f64 };

inline constexpr size_t dtype_size(DType t) { return t == DType::f32 ? 4 : 8; }
inline const char* dtype_name(DType t) { return t == DType::f32 ? "float32" : "float64"; }

template <typename T> struct dtype_of;
template <> struct dtype_of<float> { static constexpr DType value = DType::f32; };
template <> struct dtype_of<double> { static constexpr DType value = DType::f64; };

/// Calls f(T{}) with T = float or double according to t; used by kernels to dispatch once.
template <typename F>
decltype(auto) dispatch_dtype(DType t, F&& f) {
  if (t == DType::f32) return f(float{});
  return f(double{});
}

}  // namespace flare
