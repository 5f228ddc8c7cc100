#pragma once
/// Where a tensor lives: the CPU or one CUDA device.
#include <string>

namespace flare {

struct Device {
  enum Kind : unsigned char { kCPU, kCUDA };
  Kind kind = kCPU;
  int index = 0;

  static Device cpu() { return {kCPU, 0}; }
  static Device cuda(int i = 0) { return {kCUDA, i}; }
  /// Parses "cpu", "cuda" or "cuda:N"; throws flare::Error otherwise.
  static Device parse(const std::string& s);

  bool is_cpu() const { return kind == kCPU; }
  bool operator==(const Device& o) const { return kind == o.kind && index == o.index; }
  bool operator!=(const Device& o) const { return !(*this == o); }
  std::string str() const { return kind == kCPU ? "cpu" : "cuda:" + std::to_string(index); }
};

}  // namespace flare
