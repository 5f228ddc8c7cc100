#include "optim/deferred_rows.h"

#include <algorithm>

namespace flare::optim {

DeferredAdamRows::DeferredAdamRows(Parameter& p, std::vector<Tensor>& state)
    : p_(&p), state_(state), rows_(p.shape().dim(0)), row_(p.shape().size() / p.shape().dim(0)),
      done_(size_t(rows_), 0) {
  p_->set_deferred(this);
}

DeferredAdamRows::~DeferredAdamRows() {
  if (!p_) return;
  settle_all();
  p_->set_deferred(nullptr);
}

void DeferredAdamRows::forget_parameter() {
  std::lock_guard<std::mutex> lock(mu_);
  p_ = nullptr;
  history_.clear();
  std::fill(done_.begin(), done_.end(), 0);
}

char* DeferredAdamRows::row_ptr(Tensor& t, int64_t row) const {
  return static_cast<char*>(t.data()) + size_t(row * row_) * dtype_size(t.dtype());
}

void DeferredAdamRows::step(const AdamStep& s) {
  std::lock_guard<std::mutex> lock(mu_);
  const std::vector<int32_t>& touched = p_->touched_rows();
  // Lookups have settled these rows already, unless the graph was built before the last step.
  for (int32_t r : touched) settle_row(r);
  if (!touched.empty())
    backend(p_->device()).adam_update(p_->dtype(), p_->stored_value().data(), p_->grad().data(), state_[0].data(),
                                     state_[1].data(),
                                     UpdateRange::of_rows(touched.data(), int64_t(touched.size()), row_), s);
  AdamStep idle = s;
  idle.zero_grad = false;
  history_.push_back(idle);
  const int32_t now = int32_t(history_.size());
  for (int32_t r : touched) done_[size_t(r)] = now;
  if (now >= kMaxPending) settle_every_row();
}

void DeferredAdamRows::settle_row(int64_t r) {
  const int32_t now = int32_t(history_.size());
  const int32_t d = done_[size_t(r)];
  if (d == now) return;
  backend(p_->device()).adam_idle_steps(p_->dtype(), row_ptr(p_->stored_value(), r), row_ptr(state_[0], r),
                                       row_ptr(state_[1], r), row_, history_.data() + d, now - d);
  done_[size_t(r)] = now;
}

void DeferredAdamRows::settle_every_row() {
  const int32_t now = int32_t(history_.size());
  if (now == 0) return;
  Backend& be = backend(p_->device());
  // Runs of rows with the same pending steps go to the kernel together (rows never looked up
  // make long runs).
  for (int64_t r = 0; r < rows_;) {
    const int32_t d = done_[size_t(r)];
    int64_t e = r + 1;
    while (e < rows_ && done_[size_t(e)] == d) ++e;
    if (d < now)
      be.adam_idle_steps(p_->dtype(), row_ptr(p_->stored_value(), r), row_ptr(state_[0], r), row_ptr(state_[1], r),
                         (e - r) * row_, history_.data() + d, now - d);
    r = e;
  }
  history_.clear();
  std::fill(done_.begin(), done_.end(), 0);
}

void DeferredAdamRows::settle_rows(const int32_t* ids, int64_t n) {
  std::lock_guard<std::mutex> lock(mu_);
  if (history_.empty()) return;
  for (int64_t i = 0; i < n; ++i) settle_row(ids[i]);
}

void DeferredAdamRows::settle_all() {
  std::lock_guard<std::mutex> lock(mu_);
  settle_every_row();
}

int32_t DeferredAdamRows::pending(int64_t row) const {
  std::lock_guard<std::mutex> lock(mu_);
  return int32_t(history_.size()) - done_[size_t(row)];
}

}  // namespace flare::optim
