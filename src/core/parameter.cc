#include "flare/parameter.h"

#include "flare/backend.h"
#include "flare/error.h"

namespace flare {

Parameter::Parameter(std::string name, Tensor value, bool trainable)
    : name_(std::move(name)), value_(std::move(value)), trainable_(trainable) {
  grad_ = Tensor::zeros(value_.shape(), value_.dtype(), value_.device());
}

// A copy is a snapshot: its own value and gradient, settled, and no deferred steps (those
// belong to the original's optimizer). Sharing the memory, as tensor handles do, would let the
// copy read rows whose steps the original has not applied yet.
Parameter::Parameter(const Parameter& o) { *this = o; }

Parameter& Parameter::operator=(const Parameter& o) {
  if (this == &o) return *this;
  settle();
  o.settle();
  name_ = o.name_;
  value_ = o.value_.clone();
  grad_ = o.grad_.clone();
  trainable_ = o.trainable_;
  sparse_ = o.sparse_;
  row_grads_ = o.row_grads_;
  used_whole_ = o.used_whole_;
  touched_ = o.touched_;
  touched_mask_ = o.touched_mask_;
  return *this;
}

Parameter::~Parameter() {
  if (deferred_) deferred_->forget_parameter();
}

void Parameter::set_deferred(Deferred* d) {
  if (d && deferred_ && d != deferred_)
    throw Error("parameter " + name_ + " already has deferred row steps from another optimizer");
  deferred_ = d;
}

void Parameter::set_sparse(bool s) {
  if (s && value_.shape().nd() < 1)
    throw Error("parameter " + name_ + ": sparse row updates need a table of rows, got shape " +
                value_.shape().str());
  settle();  // an optimizer defers steps only for dense tables
  sparse_ = s;
  touched_.clear();
  touched_mask_.assign(tracks_rows() ? size_t(value_.shape().dim(0)) : 0, 0);
}

void Parameter::set_row_gradients(bool on) {
  if (on && value_.shape().nd() < 1)
    throw Error("parameter " + name_ + ": row gradients need a table of rows, got shape " +
                value_.shape().str());
  settle();  // an optimizer defers steps only while row gradients are on
  // Every row outside the touched list must hold a zero gradient from here on.
  if (on) grad_.zero();
  row_grads_ = on;
  touched_.clear();
  touched_mask_.assign(tracks_rows() ? size_t(value_.shape().dim(0)) : 0, 0);
}

void Parameter::mark_rows(const int32_t* ids, int64_t n) {
  if (!sparse_ && !row_gradients()) return;  // used whole: the rows no longer matter
  for (int64_t i = 0; i < n; ++i) {
    uint8_t& seen = touched_mask_[size_t(ids[i])];
    if (!seen) {
      seen = 1;
      touched_.push_back(ids[i]);
    }
  }
}

void Parameter::zero_grad() {
  // A dense table clears its touched rows one call each only on the CPU, where a call is cheap;
  // elsewhere (a kernel launch per row) one fill of the whole gradient costs less.
  if (!sparse_ && (!row_gradients() || !grad_.device().is_cpu())) {
    grad_.zero();
    for (int32_t r : touched_) touched_mask_[size_t(r)] = 0;
    touched_.clear();
    return;
  }
  const int64_t row = value_.shape().size() / value_.shape().dim(0);
  Backend& be = backend(grad_.device());
  char* base = static_cast<char*>(grad_.data());
  const size_t row_bytes = size_t(row) * dtype_size(grad_.dtype());
  for (int32_t r : touched_) {
    be.fill(grad_.dtype(), base + size_t(r) * row_bytes, row, 0.0);
    touched_mask_[size_t(r)] = 0;
  }
  touched_.clear();
}

void Parameter::to(Device d) {
  if (d == value_.device()) return;
  settle();
  value_ = value_.to(d);
  grad_ = grad_.to(d);
}

}  // namespace flare
