#pragma once
/// The optimizer base class, in the style of PyTorch's C++ frontend:
///
///     flare::optim::Adam opt(model.parameters(), flare::optim::AdamOptions().lr(1e-3));
///     for (...) {
///       opt.zero_grad();
///       g.backward(loss);
///       opt.step();
///     }
///
/// Every concrete optimizer applies one fused backend kernel per parameter (value, gradient and
/// state read and written in one pass). Frozen (non-trainable) parameters are skipped and get no
/// state.
///
/// Sparse parameters (Parameter::sparse(), embedding tables): step() updates only the rows in
/// touched_rows(), and a sparse parameter with no touched rows is not updated at all. Rows not
/// touched keep their value AND their state exactly as they were: no weight decay, no momentum
/// carried forward, no moment decay ("lazy" updates, like PyTorch's SparseAdam). Step-dependent
/// terms (Adam's bias correction, Adagrad's lr decay, SGD's first-step rule) use the optimizer's
/// global step count, not a per-row count. Consequently a sparse update equals the dense one
/// exactly when the update of an element whose gradient is zero is a no-op: SGD without
/// momentum and weight decay, and Adagrad without weight decay. A sparse parameter must get its
/// gradient through lookup() only: gradient reaching other rows (say, from g.param(table)) is
/// neither applied nor cleared.
///
/// Step count: step_count() counts calls to step(); the t-th call uses t (starting at 1).
/// A parameter has state (zeros, or the slot's initial value) from the first step() or state()
/// at which it is trainable; it keeps it when frozen later.
///
/// State for checkpoints: state() names each state tensor `<param name>/<kind>/<slot>` (for
/// example `encoder.weight/adam/m`) and holds the scalars `step` and `lr`; load_state() checks
/// and restores them. Other hyper-parameters (betas, momentum...) come from the options the
/// optimizer was built with and are not part of the state.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "flare/backend.h"
#include "flare/io/safetensors.h"
#include "flare/parameter.h"

/// Declares an option `name` of type T with a chaining setter `name(v)` and a getter `name()`.
#define FLARE_OPTION(T, name, init)                              \
 public:                                                         \
  inline auto name(const T& v)->decltype(*this) {                \
    name##_ = v;                                                 \
    return *this;                                                \
  }                                                              \
  inline const T& name() const { return name##_; }               \
                                                                 \
 private:                                                        \
  T name##_ = init

namespace flare::optim {

/// An optimizer's checkpointable state. The tensors share memory with the optimizer (they are
/// handles, not copies), in parameter order.
struct OptimizerState {
  std::string kind;                       ///< "sgd", "adagrad", "adadelta", "adam", "adamw"
  io::NamedTensors tensors;               ///< `<param name>/<kind>/<slot>` -> same shape as the param
  std::map<std::string, double> scalars;  ///< "step" and "lr"
};

class Optimizer {
 public:
  /// A per-parameter state tensor: its name and initial value.
  struct Slot {
    std::string name;
    double init = 0;
  };

  virtual ~Optimizer() = default;
  Optimizer(const Optimizer&) = delete;
  Optimizer& operator=(const Optimizer&) = delete;

  /// Applies one update to every trainable parameter from its accumulated gradient.
  void step();
  /// Zeroes the gradient of every parameter (only touched rows of sparse ones).
  void zero_grad();
  /// step() then zero_grad(), the end of the usual training iteration, with each gradient
  /// cleared by the same fused pass that reads it (on the CPU): updating a large embedding table
  /// is bound by memory bandwidth, and a separate zeroing pass would read and write its gradient
  /// again. Same values as the two calls.
  void step_and_zero_grad();

  /// The learning rate the next step() uses (schedulers set it).
  double lr() const { return lr_; }
  void set_lr(double lr);
  /// Number of step() calls so far.
  int64_t step_count() const { return step_; }
  const std::vector<Parameter*>& parameters() const { return params_; }
  /// The name of the algorithm, used in state names: "sgd", "adam", ...
  const std::string& kind() const { return kind_; }

  /// The state to checkpoint (see the file comment for names).
  OptimizerState state();
  /// Everything in `s` that does not fit this optimizer, one line each (empty when it fits):
  /// another kind, missing or unexpected tensor names, dtype or shape mismatches (both shapes
  /// named), missing or invalid scalars.
  std::vector<std::string> check_state(const OptimizerState& s) const;
  /// Restores `s` after check_state(); throws flare::Error listing every problem and then
  /// changes nothing. Tensors may live on any device; they are copied.
  void load_state(const OptimizerState& s);

 protected:
  /// Throws flare::Error for a null, repeated or unnamed parameter (state names need names).
  Optimizer(std::vector<Parameter*> params, double lr, std::string kind, std::vector<Slot> slots);

  /// Updates one parameter over `r` with its state tensors (one per slot, same shape, dtype and
  /// device as the parameter). step_count() is already the number of this step.
  virtual void update(Parameter& p, std::vector<Tensor>& state, UpdateRange r) = 0;
  /// Applies any updates the optimizer has left pending (Adam's deferred row steps) so that its
  /// state and the parameters' stored values are current; state() and load_state() call it.
  virtual void settle_deferred() {}
  /// True while step_and_zero_grad() runs on a backend that clears gradients in its fused
  /// kernels: update() then sets the step's zero_grad flag.
  bool zero_grad_in_update() const { return zero_in_update_; }

 private:
  // Allocates (or moves to the parameter's device) the state of parameter i.
  std::vector<Tensor>& slots_of(size_t i);
  // Whether parameter i has (or gets, at the next state()/step()) state tensors.
  bool has_state(size_t i) const;

  std::vector<Parameter*> params_;
  std::vector<std::vector<Tensor>> state_;  // per parameter, one tensor per slot; empty if none yet
  std::vector<Slot> slots_;
  std::string kind_;
  double lr_;
  int64_t step_ = 0;
  bool zero_in_update_ = false;
};

/// Throws flare::Error("<optimizer>: <what> must be <rule>, got <v>") when `ok` is false.
void check_option(bool ok, const char* optimizer, const char* what, const char* rule, double v);

}  // namespace flare::optim
