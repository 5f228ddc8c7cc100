#pragma once
/// Shapes: up to 4 dimensions per example, plus a batch dimension.
///
/// Data is row-major with the batch outermost: example b occupies elements
/// [b * size(), (b + 1) * size()). A shape prints as `[2,3]x8` (batch 8) or `[2,3]` (batch 1).
#include <cstdint>
#include <initializer_list>
#include <string>

namespace flare {

class Shape {
 public:
  static constexpr int kMaxDims = 4;

  Shape() = default;
  Shape(std::initializer_list<int64_t> dims, int64_t batch = 1);
  /// From a pointer to `nd` dimensions.
  static Shape of(const int64_t* dims, int nd, int64_t batch = 1);

  int nd() const { return nd_; }
  int64_t dim(int i) const { return dims_[i]; }
  int64_t batch() const { return batch_; }
  /// Elements of one example.
  int64_t size() const { return size_; }
  /// Elements over the whole batch.
  int64_t total() const { return size_ * batch_; }
  /// Row count and column count when seen as a matrix ([n] is n x 1).
  int64_t rows() const { return nd_ == 0 ? 1 : dims_[0]; }
  int64_t cols() const { return nd_ <= 1 ? 1 : size_ / dims_[0]; }
  bool is_scalar() const { return size_ == 1; }

  Shape with_batch(int64_t b) const { Shape s = *this; s.batch_ = b; return s; }
  Shape with_dim(int i, int64_t d) const;
  /// Removes dimension i.
  Shape without_dim(int i) const;
  /// Product of dimensions before i, and after i (per example).
  int64_t outer(int i) const;
  int64_t inner(int i) const;
  /// Normalises a possibly negative dim index; throws ShapeError naming `op` when out of range.
  int axis(int d, const char* op) const;

  bool same_dims(const Shape& o) const;
  bool operator==(const Shape& o) const { return same_dims(o) && batch_ == o.batch_; }
  bool operator!=(const Shape& o) const { return !(*this == o); }

  std::string str() const;

 private:
  void recompute();
  int64_t dims_[kMaxDims] = {1, 1, 1, 1};
  int64_t size_ = 1;
  int64_t batch_ = 1;
  int nd_ = 0;
};

}  // namespace flare
