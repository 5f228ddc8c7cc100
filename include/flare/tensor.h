#pragma once
/// Dense tensors: a shape (with batch), an element type, a device, and memory that is either
/// owned (shared between copies of the handle, like a PyTorch tensor) or a view of memory kept
/// alive elsewhere (a graph's arena).
#include <initializer_list>
#include <iosfwd>
#include <memory>
#include <string>
#include <vector>

#include "flare/device.h"
#include "flare/dtype.h"
#include "flare/shape.h"

namespace flare {

class Tensor {
 public:
  Tensor() = default;

  /// Uninitialised memory of the given shape.
  static Tensor empty(const Shape& s, DType t = DType::f32, Device d = Device::cpu());
  static Tensor zeros(const Shape& s, DType t = DType::f32, Device d = Device::cpu());
  static Tensor full(const Shape& s, double value, DType t = DType::f32, Device d = Device::cpu());
  /// Copies `values` (s.total() of them, batch outermost) into a new tensor of type t.
  static Tensor from(const Shape& s, const std::vector<double>& values, DType t = DType::f32,
                     Device d = Device::cpu());
  static Tensor from(const Shape& s, const std::vector<float>& values, Device d = Device::cpu());
  static Tensor from(const Shape& s, std::initializer_list<float> values, Device d = Device::cpu()) {
    return from(s, std::vector<float>(values), d);
  }
  /// A non-owning view of `data`; the caller keeps the memory alive.
  static Tensor view(void* data, const Shape& s, DType t, Device d = Device::cpu());

  bool defined() const { return data_ != nullptr || shape_.total() == 0; }
  const Shape& shape() const { return shape_; }
  DType dtype() const { return dtype_; }
  Device device() const { return device_; }
  size_t bytes() const { return size_t(shape_.total()) * dtype_size(dtype_); }

  void* data() const { return data_; }
  /// Typed pointer; throws flare::Error if T does not match dtype().
  template <typename T> T* data() const;

  /// Same memory, another shape of the same total size.
  Tensor reshape(const Shape& s) const;
  /// Rows [begin, end) of dimension 0 of a batch-1 tensor, as a view (used for embedding rows).
  Tensor rows(int64_t begin, int64_t end) const;
  /// Example b of a batched tensor, as a view with batch 1.
  Tensor batch_item(int64_t b) const;

  /// A deep copy, optionally to another device or dtype.
  Tensor clone() const;
  Tensor to(Device d) const;
  Tensor to(DType t) const;
  /// Copies values from `src` (same total size; any device and dtype) into this tensor.
  void copy_from(const Tensor& src);
  void fill(double value);
  void zero() { fill(0.0); }

  /// All values as doubles (copied to the host when needed).
  std::vector<double> to_vector() const;
  /// Value at flat index i (host copy for device tensors; slow, for tests and printing).
  double at(int64_t i) const;
  /// The single value of a one-element tensor; throws otherwise.
  double item() const;

  std::string str(int max_per_dim = 8) const;

 private:
  std::shared_ptr<void> owner_;
  void* data_ = nullptr;
  Shape shape_;
  DType dtype_ = DType::f32;
  Device device_;
};

std::ostream& operator<<(std::ostream& os, const Tensor& t);
std::ostream& operator<<(std::ostream& os, const Shape& s);

}  // namespace flare
