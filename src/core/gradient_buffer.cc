#include "flare/gradient_buffer.h"

#include "flare/backend.h"
#include "flare/error.h"

namespace flare {
namespace {

int64_t row_size(const Parameter& p) { return p.shape().size() / p.shape().dim(0); }

// Whether p's gradient is nonzero only in the rows lookups marked (see Parameter::row_gradients).
bool by_rows(const Parameter& p) { return p.sparse() || p.row_gradients(); }

}  // namespace

GradientBuffer::GradientBuffer(const std::vector<Parameter*>& params) : params_(params) {
  slots_.reserve(params.size());
  for (size_t i = 0; i < params.size(); ++i) {
    Parameter* p = params[i];
    if (!p) throw Error("GradientBuffer: parameter " + std::to_string(i) + " is null");
    if (!index_.emplace(p, i).second)
      throw Error("GradientBuffer: parameter " + p->name() + " is listed twice");
    slots_.push_back({p, Tensor::zeros(p->shape(), p->dtype(), p->device()), {}, {}});
  }
}

GradientBuffer::Slot& GradientBuffer::slot(const Parameter& p) {
  auto it = index_.find(&p);
  if (it == index_.end())
    throw Error("GradientBuffer: parameter " + p.name() +
                " is not one of the buffer's; build the buffer from every parameter the graphs use");
  return slots_[it->second];
}

const GradientBuffer::Slot& GradientBuffer::slot(const Parameter& p) const {
  return const_cast<GradientBuffer*>(this)->slot(p);
}

Tensor& GradientBuffer::grad(const Parameter& p) {
  Slot& s = slot(p);
  // A model moved to another device after the buffer was made: follow it.
  if (s.grad.device() != p.device()) s.grad = Tensor::zeros(p.shape(), p.dtype(), p.device());
  return s.grad;
}

void GradientBuffer::mark_rows(const Parameter& p, const int32_t* ids, int64_t n) {
  Slot& s = slot(p);
  if (s.mask.empty()) s.mask.assign(size_t(p.shape().dim(0)), 0);
  for (int64_t i = 0; i < n; ++i) {
    uint8_t& seen = s.mask[size_t(ids[i])];
    if (!seen) {
      seen = 1;
      s.touched.push_back(ids[i]);
    }
  }
}

const std::vector<int32_t>& GradientBuffer::touched_rows(const Parameter& p) const {
  return slot(p).touched;
}

void GradientBuffer::reduce_into() {
  for (Slot& s : slots_) {
    Parameter& p = *s.param;
    if (!p.trainable()) continue;
    Backend& be = backend(p.device());
    if (!by_rows(p)) {
      be.axpy(p.dtype(), p.grad().data(), s.grad.data(), p.shape().total(), 1.0);
    } else if (!s.touched.empty()) {
      const int64_t row = row_size(p);
      const size_t row_bytes = size_t(row) * dtype_size(p.dtype());
      char* dst = static_cast<char*>(p.grad().data());
      const char* src = static_cast<const char*>(s.grad.data());
      for (int32_t r : s.touched) be.axpy(p.dtype(), dst + r * row_bytes, src + r * row_bytes, row, 1.0);
      p.mark_rows(s.touched.data(), int64_t(s.touched.size()));
    }
    zero(s);
  }
}

void GradientBuffer::zero() {
  for (Slot& s : slots_) zero(s);
}

void GradientBuffer::zero(Slot& s) {
  if (!by_rows(*s.param)) {
    s.grad.zero();
    for (int32_t r : s.touched) s.mask[size_t(r)] = 0;
    s.touched.clear();
    return;
  }
  // Only lookups wrote the gradient, and they marked every row they wrote.
  if (s.touched.empty()) return;
  const int64_t row = row_size(*s.param);
  const size_t row_bytes = size_t(row) * dtype_size(s.grad.dtype());
  Backend& be = backend(s.grad.device());
  for (int32_t r : s.touched) {
    be.fill(s.grad.dtype(), static_cast<char*>(s.grad.data()) + r * row_bytes, row, 0.0);
    s.mask[size_t(r)] = 0;
  }
  s.touched.clear();
}

}  // namespace flare
