#include "flare/shape.h"

#include <sstream>

#include "flare/error.h"

namespace flare {

Shape::Shape(std::initializer_list<int64_t> dims, int64_t batch) : batch_(batch) {
  if (dims.size() > kMaxDims)
    throw ShapeError("shape: at most " + std::to_string(kMaxDims) + " dimensions, got " +
                     std::to_string(dims.size()));
  for (int64_t d : dims) dims_[nd_++] = d;
  recompute();
}

Shape Shape::of(const int64_t* dims, int nd, int64_t batch) {
  if (nd > kMaxDims || nd < 0)
    throw ShapeError("shape: at most " + std::to_string(kMaxDims) + " dimensions, got " +
                     std::to_string(nd));
  Shape s;
  s.nd_ = nd;
  for (int i = 0; i < nd; ++i) s.dims_[i] = dims[i];
  s.batch_ = batch;
  s.recompute();
  return s;
}

void Shape::recompute() {
  size_ = 1;
  for (int i = 0; i < nd_; ++i) {
    if (dims_[i] < 0) throw ShapeError("shape: negative dimension in " + str());
    size_ *= dims_[i];
  }
  for (int i = nd_; i < kMaxDims; ++i) dims_[i] = 1;
  if (batch_ < 1) throw ShapeError("shape: batch size must be at least 1, got " + std::to_string(batch_));
}

Shape Shape::with_dim(int i, int64_t d) const {
  Shape s = *this;
  s.dims_[i] = d;
  s.recompute();
  return s;
}

Shape Shape::without_dim(int i) const {
  Shape s;
  s.batch_ = batch_;
  for (int k = 0; k < nd_; ++k)
    if (k != i) s.dims_[s.nd_++] = dims_[k];
  s.recompute();
  return s;
}

int64_t Shape::outer(int i) const {
  int64_t p = 1;
  for (int k = 0; k < i; ++k) p *= dims_[k];
  return p;
}

int64_t Shape::inner(int i) const {
  int64_t p = 1;
  for (int k = i + 1; k < nd_; ++k) p *= dims_[k];
  return p;
}

int Shape::axis(int d, const char* op) const {
  int n = nd_ == 0 ? 1 : nd_;
  int a = d < 0 ? d + n : d;
  if (a < 0 || a >= n)
    throw ShapeError(std::string(op) + ": dim " + std::to_string(d) + " out of range for " + str());
  return a;
}

bool Shape::same_dims(const Shape& o) const {
  if (nd_ != o.nd_) return false;
  for (int i = 0; i < nd_; ++i)
    if (dims_[i] != o.dims_[i]) return false;
  return true;
}

std::string Shape::str() const {
  std::string s = "[";
  for (int i = 0; i < nd_; ++i) {
    if (i) s += ",";
    s += std::to_string(dims_[i]);
  }
  s += "]";
  if (batch_ != 1) s += "x" + std::to_string(batch_);
  return s;
}

}  // namespace flare
