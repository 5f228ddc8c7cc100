#pragma once
/// Parameters: tensors that live outside graphs and persist across them, with a gradient that
/// backward() accumulates into. Models (flare::nn) own them and give them hierarchical names.
#include <atomic>
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
  /// The value, with any deferred row steps applied first (see Deferred).
  Tensor& value() {
    settle();
    return value_;
  }
  const Tensor& value() const {
    settle();
    return value_;
  }
  Tensor& grad() { return grad_; }
  const Tensor& grad() const { return grad_; }

  /// Frozen parameters (fixed pre-trained embeddings) take part in graphs but get no gradient.
  bool trainable() const { return trainable_; }
  void set_trainable(bool t) { trainable_ = t; }

  /// Sparse row tracking (embeddings): when on, lookups record which rows of dimension 0 got a
  /// gradient, so optimizers and zero_grad() touch only those rows.
  bool sparse() const { return sparse_; }
  void set_sparse(bool s);
  /// Row gradients (trainable nn::Embedding tables that are updated densely): lookups record
  /// the rows they give a gradient, as with sparse(), but optimizers still update every row.
  /// They read the gradient of the touched rows only, since every other row's is zero: a dense
  /// Adam step over a large table then streams three arrays instead of four. This holds while
  /// gradients reach the table through lookups alone. A graph that uses the table any other
  /// way (a tied output layer, a penalty on the whole table) switches the shortcut off for good
  /// (Graph::add sees it), and code that writes grad() itself must call
  /// set_row_gradients(false) first. Turning it on zeroes the gradient.
  bool row_gradients() const { return row_grads_ && !used_whole_.get(); }
  void set_row_gradients(bool on);
  /// Called by Graph::add when the table is an argument of an op other than lookup.
  void note_used_whole() { used_whole_.set(); }

  /// Whether lookups record touched rows (sparse() or row_gradients()).
  bool tracks_rows() const { return sparse_ || row_grads_; }
  /// Rows touched since the last zero_grad(), each once, in first-touch order.
  const std::vector<int32_t>& touched_rows() const { return touched_; }
  /// Per row of dimension 0: 1 if touched since the last zero_grad() (empty unless tracks_rows()).
  const uint8_t* touched_mask() const { return touched_mask_.data(); }
  void mark_rows(const int32_t* ids, int64_t n);

  /// Zeroes the gradient (only the touched rows when sparse() or row_gradients()) and forgets
  /// the touched rows.
  void zero_grad();

  /// Moves value and gradient to another device.
  void to(Device d);

  /// Deferred row steps. An optimizer may leave the zero-gradient steps of a row-gradient
  /// table's untouched rows pending (optim::AdamOptions::defer_untouched_rows), to run many
  /// steps of a row at once while it sits in cache instead of streaming the whole table every
  /// step. Until they are applied, the stored rows (and the optimizer's state for them) lag
  /// behind; every reader settles what it reads first, so nobody sees the lag: value() settles
  /// the whole table, a lookup its rows (Graph), any other op the whole table. The steps are the
  /// same arithmetic the dense update would have done, so the values are the same bits.
  class Deferred {
   public:
    virtual ~Deferred() = default;
    /// Applies the pending steps of these rows (thread-safe: lookups may run on many threads).
    virtual void settle_rows(const int32_t* ids, int64_t n) = 0;
    /// Applies every pending step.
    virtual void settle_all() = 0;
    /// The parameter is being destroyed: its pending steps are dropped, and it is never
    /// touched again (an optimizer may outlive the model it was given).
    virtual void forget_parameter() = 0;
  };
  /// Installed by an optimizer (nullptr removes it); at most one at a time.
  void set_deferred(Deferred* d);
  Deferred* deferred() const { return deferred_; }
  /// Applies every deferred step (value() does this).
  void settle() const {
    if (deferred_) deferred_->settle_all();
  }
  /// Applies the deferred steps of these rows only (lookups do this before reading them).
  void settle_rows(const int32_t* ids, int64_t n) const {
    if (deferred_) deferred_->settle_rows(ids, n);
  }
  /// The stored value without settling: for graph nodes, whose readers settle what they read,
  /// and for the optimizer that owns the deferred steps.
  Tensor& stored_value() { return value_; }

  /// A copy is a snapshot with its own value and gradient (deep copies, settled first).
  Parameter(const Parameter& o);
  Parameter& operator=(const Parameter& o);
  ~Parameter();

 private:
  std::string name_;
  Tensor value_;
  Tensor grad_;
  bool trainable_ = true;
  bool sparse_ = false;
  bool row_grads_ = false;
  // Set from graph-building threads, which may share the parameter: atomic, and copied by value.
  struct StickyFlag {
    std::atomic<bool> on{false};
    StickyFlag() = default;
    StickyFlag(const StickyFlag& o) : on(o.get()) {}
    StickyFlag& operator=(const StickyFlag& o) {
      on.store(o.get(), std::memory_order_relaxed);
      return *this;
    }
    bool get() const { return on.load(std::memory_order_relaxed); }
    void set() {
      if (!get()) on.store(true, std::memory_order_relaxed);
    }
  };
  StickyFlag used_whole_;
  std::vector<int32_t> touched_;
  std::vector<uint8_t> touched_mask_;
  Deferred* deferred_ = nullptr;  // owned by the optimizer that installed it; never copied
};

}  // namespace flare
