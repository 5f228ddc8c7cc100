#pragma once
// The safetensors dtypes flare reads and writes (not part of the public API).
#include <cstddef>
#include <string>

namespace flare::io::detail {

enum class StKind { f32, f64, f16, bf16, sint, uint, boolean };

struct StDType {
  const char* name;
  StKind kind;
  size_t size;  // bytes per element
};

/// The entry for a safetensors dtype string, or nullptr when flare does not support it.
const StDType* find_st_dtype(const std::string& name);

}  // namespace flare::io::detail
