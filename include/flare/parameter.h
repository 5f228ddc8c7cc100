#pragma once
/// Parameters: tensors that live outside graphs and persist across them, with a gradient that
/// backward() accumulates into. Models (flare::nn) own them and give them hierarchical names.
#include <cstdint>
#include <string>
#include <vector>

#include "flare/tensor.h"

namespace flare {

class Parameter {
 public:
  Parameter() = default;
  /// `value` is taken as is (no copy); the gradient is a zero tensor of the same shape.
  Parameter(std::string name, Tensor value, bool trainable = true);

  const std::string& name() const { return name_; }
  const Shape& shape() const { return value_.shape(); }
  DType dtype() const { return value_.dtype(); }
  Device device() const { return value_.device(); }
  Tensor& value() { return value_; }
  const Tensor& value() const { return value_; }
  Tensor& grad() { return grad_; }
  const Tensor& grad() const { return grad_; }

  /// Frozen parameters (fixed pre-trained embeddings) take part in graphs but get no gradient.
  bool trainable() const { return trainable_; }
  void set_trainable(bool t) { trainable_ = t; }

  /// Sparse row tracking (embeddings): when on, lookups record which rows of dimension 0 got a
  /// gradient, so optimizers and zero_grad() touch only those rows.
  bool sparse() const { return sparse_; }
  void set_sparse(bool s);
  /// Rows touched since the last zero_grad(), each once, in first-touch order.
  const std::vector<int32_t>& touched_rows() const { return touched_; }
  void mark_rows(const int32_t* ids, int64_t n);

  /// Zeroes the gradient (only the touched rows when sparse) and forgets the touched rows.
  void zero_grad();

  /// Moves value and gradient to another device.
  void to(Device d);

 private:
  std::string name_;
  Tensor value_;
  Tensor grad_;
  bool trainable_ = true;
  bool sparse_ = false;
  std::vector<int32_t> touched_;
  std::vector<uint8_t> touched_mask_;
};

}  // namespace flare
